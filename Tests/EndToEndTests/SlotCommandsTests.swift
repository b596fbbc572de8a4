import Foundation
import Testing

/// `outbox-cdc status`, `setup` and `teardown` against the real server.
@Suite("status, setup and teardown")
struct SlotCommandsTests {
    /// Runs a subcommand to its end; returns its exit status and output.
    private func run(_ arguments: [String]) throws -> (status: Int32?, output: String) {
        let process = try ConnectorProcess(arguments)
        let status = process.waitForExit(timeout: .seconds(60))
        return (status, process.log)
    }

    @Test func setupThenRunWithNoCreateThenStatusThenTeardown() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)", publication = "pub_\(database.suffix)"
        let target = ["--db", database.url, "--slot", slot, "--publication", publication]

        let missing = try run(["status"] + target)
        #expect(missing.status == 1 && missing.output.contains("does not exist"), "\(missing.output)")

        let setup = try run(["setup"] + target)
        #expect(setup.status == 0, "\(setup.output)")
        #expect(setup.output.contains("publication \(publication): created (public.outbox)") && setup.output.contains("slot \(slot): created at"),
                "\(setup.output)")
        #expect(try database.slot(slot) != nil)
        let again = try run(["setup"] + target)
        #expect(again.status == 0 && again.output.contains("exists"), "setup twice is harmless:\n\(again.output)")

        let connector = try ConnectorProcess(database: database, extra: ["--no-create"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: slot)
        var writer = try OutboxWriter(database: database)
        _ = try writer.commit([("Status\(database.suffix)", "k")])
        let reader = try TopicReader(topics: ["outbox.event.Status\(database.suffix)"])
        try reader.read(until: 1, log: connector)

        let whileActive = try run(["setup"] + target)
        #expect(whileActive.status == 0 && whileActive.output.contains("exists, active (pid"), "setup beside a running outbox-cdc:\n\(whileActive.output)")

        let shown = try run(["status"] + target)
        #expect(shown.status == 0, "\(shown.output)")
        for expected in ["slot           \(slot) (logical, plugin pgoutput", "state          active (pid", "confirmed LSN  ", "lag            ",
                         "wal_status     reserved; keeps", "publication    \(publication): public.outbox"] {
            #expect(shown.output.contains(expected), "'\(expected)' in:\n\(shown.output)")
        }
        let json = try run(["status", "--format", "json"] + target)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], "\(json.output)")
        let slotObject = try #require(object["slot"] as? [String: Any])
        #expect(slotObject["active"] as? Bool == true)
        #expect(slotObject["plugin"] as? String == "pgoutput")
        #expect(slotObject["lag_bytes"] is Int)
        #expect((object["publication"] as? [String: Any])?["tables"] as? [String] == ["public.outbox"])

        // While outbox-cdc streams, teardown refuses; without a terminal it never asks and refuses without --yes.
        let unconfirmed = try run(["teardown"] + target)
        #expect(unconfirmed.status != 0 && unconfirmed.output.contains("pass --yes"), "\(unconfirmed.output)")
        let busy = try run(["teardown", "--yes"] + target)
        #expect(busy.status != 0 && busy.output.contains("in use by pid"), "\(busy.output)")
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0)
        try waitFor("the slot to be released", timeout: .seconds(10)) { try database.slot(slot)?.active == false }
        // A role that may drop the slot but does not own the publication: refused before anything is dropped.
        let role = "teardown_\(database.suffix)"
        try database.sql("CREATE ROLE \(role) LOGIN REPLICATION PASSWORD 'pw'")
        defer { _ = try? database.sql("DROP ROLE IF EXISTS \(role)") }
        var components = try #require(URLComponents(string: database.url))
        components.user = role
        components.password = "pw"
        let notOwner = try run(["teardown", "--yes", "--db", try #require(components.string), "--slot", slot, "--publication", publication])
        #expect(notOwner.status != 0, "\(notOwner.output)")
        #expect(notOwner.output.contains("nothing dropped") && notOwner.output.contains("does not own the publication '\(publication)'")
                && notOwner.output.contains("DROP PUBLICATION \(publication) as its owner"), "\(notOwner.output)")
        #expect(try database.slot(slot) != nil, "the slot is still there")

        let dropped = try run(["teardown", "--yes"] + target)
        #expect(dropped.status == 0 && dropped.output.contains("dropped slot \(slot)\ndropped publication \(publication)"), "\(dropped.output)")
        #expect(try database.slot(slot) == nil)
    }
}
