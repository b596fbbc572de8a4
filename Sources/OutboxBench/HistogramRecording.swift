public import Histogram

extension Histogram where Count == UInt64 {
    /// Records a latency in microseconds, keeping every sample: a negative one (a clock stepped back) as
    /// zero, one beyond the histogram's range as its highest value. `record` would drop both.
    public mutating func recordLatency(microseconds: Int64) {
        _ = record(Swift.min(UInt64(clamping: Swift.max(microseconds, 0)), highestTrackableValue))
    }
}
