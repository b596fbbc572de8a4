import Foundation

extension NSLock {
    /// `withLock` with a typed error, which Foundation's (untyped `rethrows`) version loses.
    func withCriticalSection<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        lock()
        defer { unlock() }
        return try body()
    }
}
