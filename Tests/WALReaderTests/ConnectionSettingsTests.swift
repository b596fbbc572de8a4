import Testing
import WALReader

/// Parsing only (libpq's PQconninfoParse): nothing connects.
@Suite("ConnectionSettings")
struct ConnectionSettingsTests {
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
