import Clocks
import Testing

@Suite("WallClock")
struct WallClockTests {
    /// 2024-01-01 and 2100-01-01 in seconds since 1970.
    static let plausible: ClosedRange<Int64> = 1_704_067_200...4_102_444_800

    @Test func nowIsAPlausibleTime() {
        let (seconds, nanoseconds) = WallClock.now()
        #expect(Self.plausible.contains(seconds))
        #expect((0..<1_000_000_000).contains(nanoseconds))
    }

    /// The three units read the same clock: taken one after the other, they agree to within a second.
    @Test func theUnitsAgree() {
        let milliseconds = WallClock.nowMilliseconds()
        let microseconds = WallClock.nowMicroseconds()
        let nanoseconds = WallClock.nowNanoseconds()
        #expect(Self.plausible.contains(milliseconds / 1_000))
        #expect((0...1_000).contains(microseconds / 1_000 - milliseconds))
        #expect((0...1_000_000).contains(nanoseconds / 1_000 - microseconds))
    }
}
