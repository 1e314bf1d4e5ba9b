// Shared by every fuzz harness (compiled into each one by `tools/fuzz`; not part of the package).
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private scratch directory for the harness's files, on tmpfs when there is one (`/dev/shm`).
func makeScratchDirectory(_ name: String) -> FilePath {
    let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    let path = "\(base)/bidline-fuzz-\(name)-\(getpid())"
    mkdir(path, 0o700)
    return FilePath(path)
}

/// Replaces the content of the file at `path` with `bytes` (created if missing).
func replaceFile(_ path: FilePath, with bytes: UnsafeRawBufferPointer) {
    do {
        let descriptor = try FileDescriptor.open(
            path, .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        defer { try? descriptor.close() }
        _ = try descriptor.writeAll(bytes)
    } catch {
        fatalError("fuzz harness cannot write its scratch file \(path): \(error)")
    }
}

/// Stops the run with a message libFuzzer records with the input (a broken invariant, not a crash in the code).
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("invariant broken: \(message())") }
}
