import Clocks
import Testing

@Suite("Duration in milliseconds, nanoseconds and seconds")
struct DurationUnitsTests {
    @Test(arguments: [
        (Duration.zero, Int64(0)), (.microseconds(1_900), 1), (.nanoseconds(999_999), 0), (.seconds(44.1), 44_100),
        (.milliseconds(-1.5), -1), (.seconds(-2), -2_000), (.seconds(1) + .nanoseconds(1), 1_000),
    ])
    func millisecondsAreTruncatedTowardZero(duration: Duration, milliseconds: Int64) {
        #expect(duration.milliseconds == milliseconds)
    }

    @Test(arguments: [
        (Duration.zero, Int64(0)), (.nanoseconds(1), 1), (.milliseconds(5), 5), (.microseconds(5_001), 6),
        (.nanoseconds(-1), 0), (.microseconds(-1_500), -1), (.seconds(1) + .nanoseconds(1), 1_001),
    ])
    func millisecondsRoundedUp(duration: Duration, milliseconds: Int64) {
        #expect(duration.millisecondsRoundedUp == milliseconds)
    }

    @Test func nanosecondsAndSeconds() {
        #expect(Duration.microseconds(3).nanoseconds == 3_000)
        #expect(Duration.seconds(2).nanoseconds == 2_000_000_000)
        #expect(Duration.nanoseconds(-7).nanoseconds == -7)
        #expect(Duration.milliseconds(1_500).seconds == 1.5)
        #expect(Duration.milliseconds(-250).seconds == -0.25)
        #expect(Duration.zero.seconds == 0)
    }

    @Test(arguments: [
        (Duration.milliseconds(44_199), "44.1"), (.zero, "0.0"), (.seconds(30), "30.0"), (.milliseconds(99), "0.0"),
        (.milliseconds(100), "0.1"),
    ])
    func secondsWithOneDecimal(duration: Duration, text: String) {
        #expect(duration.secondsText == text)
    }

    /// Durations whose milliseconds or nanoseconds do not fit an Int64 give its bounds, not a trap.
    @Test func conversionsSaturate() {
        let longest = Duration.seconds(Int64.max)
        let shortest = Duration.seconds(Int64.min)
        #expect(longest.milliseconds == .max)
        #expect(longest.millisecondsRoundedUp == .max)
        #expect(longest.nanoseconds == .max)
        #expect(shortest.milliseconds == .min)
        #expect(shortest.millisecondsRoundedUp == .min)
        #expect(shortest.nanoseconds == .min)
        #expect(Duration.seconds(Int64.max / 1_000).milliseconds == Int64.max / 1_000 * 1_000)
    }

    /// Against 128-bit arithmetic on the attoseconds, for durations of every size.
    @Test func agreeWithWideArithmetic() {
        var generator = SystemRandomNumberGenerator()
        let attosecondsPerMillisecond: Int128 = 1_000_000_000_000_000
        for _ in 0..<5_000 {
            let seconds = Int64.random(in: Int64.min...Int64.max, using: &generator) >> Int64.random(in: 0...63, using: &generator)
            let attoseconds = Int64.random(in: -999_999_999_999_999_999...999_999_999_999_999_999, using: &generator)
            let duration = Duration(secondsComponent: seconds, attosecondsComponent: attoseconds)
            let (wholeSeconds, fraction) = duration.components
            let total = Int128(wholeSeconds) * 1_000_000_000_000_000_000 + Int128(fraction)
            func clamped(_ value: Int128) -> Int64 { Int64(clamping: value) }
            #expect(duration.milliseconds == clamped(total / attosecondsPerMillisecond), "\(duration)")
            let up = total > 0 ? (total + attosecondsPerMillisecond - 1) / attosecondsPerMillisecond : total / attosecondsPerMillisecond
            #expect(duration.millisecondsRoundedUp == clamped(up), "\(duration)")
            #expect(duration.nanoseconds == clamped(total / 1_000_000_000), "\(duration)")
        }
    }
}
