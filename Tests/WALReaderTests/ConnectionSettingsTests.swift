import PostgresNames
import Testing
import WALReader

/// Connection strings checked before any I/O: option values libpq would only refuse when connecting are
/// named at once, and no message built from a connection string shows its password.
@Suite("ConnectionSettings")
struct ConnectionSettingsTests {
    @Test("Option values libpq cannot use are refused, naming the option", arguments: [
        ("postgres://u@db:notaport/app", "'port'"),
        ("postgres://u@db:0/app", "'port'"),
        ("postgres://u@db:70000/app", "'port'"),
        ("host=a,b port=5432,x dbname=app", "'port'"),
        ("postgres://u@db/app?sslmode=bogus", "'sslmode'"),
        ("host=db sslmode=Require", "'sslmode'"),
        ("host=db target_session_attrs=writable", "'target_session_attrs'"),
        ("host=db channel_binding=maybe", "'channel_binding'"),
        ("host=db connect_timeout=ten", "'connect_timeout'"),
        ("host=db keepalives=yes", "'keepalives'"),
    ])
    func invalidOptionValues(text: String, option: String) {
        #expect {
            _ = try ConnectionSettings(text)
        } throws: { error in
            "\(error)".contains(option)
        }
    }

    @Test("Valid strings pass, multi-host and default ports included", arguments: [
        "postgres://app:secret@db:5432/app?sslmode=verify-full&target_session_attrs=read-write",
        "postgres://app@h1:5432,h2:5433/app?target_session_attrs=primary",
        "host=h1,h2 port=5432, dbname=app connect_timeout=5 keepalives=1 keepalives_idle=30",
        "dbname=app",
    ])
    func validStrings(text: String) throws {
        _ = try ConnectionSettings(text)
    }

    @Test("A malformed string's error never shows its password")
    func malformedStringsHideThePassword() {
        for text in ["postgres//app:S3cret!@db:5432/app", "host=db password=S3cret! dbname", "host=db password='S3 cret!' dbname",
                     "postgres://app:S3cret!@[::1/app"] {
            do {
                _ = try ConnectionSettings(text)
                Issue.record("'\(text)' should not parse")
            } catch {
                #expect(!"\(error)".contains("S3"), "\(error)")
            }
        }
    }

    @Test("Redaction: user:password@ and password= values, and nothing else", arguments: [
        ("missing \"=\" after \"postgres//user:PASSWORD@host:5432/db\" in connection info string", "missing \"=\" after \"postgres//user:***@host:5432/db\" in connection info string"),
        ("postgres://app:p%40ss@db/app", "postgres://app:***@db/app"),
        ("host=db password=hunter2 user=app", "host=db password=*** user=app"),
        ("host=db password = 'two words\\' here' user=app", "host=db password = *** user=app"),
        ("postgres://db/app?password=hunter2&sslmode=require", "postgres://db/app?password=***&sslmode=require"),
        ("connection to server at \"[::1]\", port 5432 failed", "connection to server at \"[::1]\", port 5432 failed"),
        ("user@host:5432/db", "user@host:5432/db"),
    ])
    func redaction(text: String, redacted: String) {
        #expect(ConnectionSettings.redactingSecrets(text) == redacted)
    }
}

/// Hints print names as psql needs them pasted (quote_ident), so that the statement they give runs as is.
@Suite("Setup hints")
struct SetupHintTests {
    @Test func namesInHintsAreQuotedAsPostgreSQLQuotesThem() {
        let table = QualifiedTableName(schema: "Sales", name: "Outbox")
        #expect(ReplicationSetupError.publicationLacksTable(publication: "Outbox Pub", table: table).description
            .contains(#"ALTER PUBLICATION "Outbox Pub" ADD TABLE "Sales"."Outbox""#))
        #expect(ReplicationSetupError.publicationNotViaPartitionRoot(publication: "outbox_pub", table: table, allTables: false).description
            .contains("ALTER PUBLICATION outbox_pub SET (publish_via_partition_root = true)"))
        #expect(ReplicationSetupError.roleLacksReplication(role: "Relay").description.contains(#"ALTER ROLE "Relay" WITH REPLICATION"#))
        #expect(ReplicationSetupError.tableMissing(table, database: "shop").description.contains(#"the outbox table "Sales"."Outbox" does not exist"#))
    }
}

/// Parsing only (libpq's PQconninfoParse): nothing connects.
@Suite("ConnectionSettings: the password in the string")
struct ConnectionStringPasswordTests {
    @Test(arguments: [
        ("postgres://app:s3cret@db:5432/app", true),
        ("postgresql://app:s3cret@db/app?sslmode=require", true),
        ("postgres://app@db/app?password=s3cret", true),
        ("host=db user=app password=s3cret dbname=app", true),
        ("postgres://app@db:5432/app", false),
        ("postgres://app:@db:5432/app", false),
        ("host=db user=app dbname=app", false),
        ("", false),
    ])
    func whetherTheStringHoldsAPassword(text: String, hasPassword: Bool) throws {
        let settings = try ConnectionSettings(text)
        #expect(settings.connectionStringHasPassword == hasPassword)
    }

    @Test func neitherPasswordIsPrinted() throws {
        var settings = try ConnectionSettings("postgres://app:in-the-url@db:5432/app")
        settings.password = "from-the-file"
        #expect(settings.description == "app@db:5432/app")
    }
}
