import SystemPackage

/// The file operations the log writer performs, injectable so that tests can simulate a failing disk.
///
/// ``POSIXFileSystem`` is the real one. A test double wraps it and throws, for example,
/// `Errno.noSpace` from ``WALFileHandle/write(_:at:)`` to simulate a full disk.
public protocol WALFileSystem: Sendable {
    /// Creates the file at `path`, or empties it if it exists, and opens it for writing.
    func createFile(at path: FilePath) throws(Errno) -> any WALFileHandle

    /// Flushes the entries of the directory at `path` (a created or renamed file) to stable storage.
    func synchronizeDirectory(at path: FilePath) throws(Errno)

    /// Renames the file at `source` to `destination`, replacing it (used to put a preallocated segment
    /// in place). The default implementation calls `rename(2)`.
    func renameFile(at source: FilePath, to destination: FilePath) throws(Errno)
}

extension WALFileSystem {
    public func renameFile(at source: FilePath, to destination: FilePath) throws(Errno) {
        do { try FileOps.rename(source, to: destination) } catch { throw error.errno }
    }
}

/// A file the log writer appends to. Used by one thread at a time; need not be thread-safe.
public protocol WALFileHandle: AnyObject {
    /// Writes all of `bytes` at `offset`, or throws; a short write is retried until complete or failed.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(Errno)

    /// Sets the file's length to `length` bytes, discarding what lies beyond.
    func truncate(to length: Int64) throws(Errno)

    /// Flushes written data to stable storage: `fdatasync` when `dataOnly`, else `fsync`.
    func synchronize(dataOnly: Bool) throws(Errno)

    /// Closes the file; the handle is not used afterwards.
    func close() throws(Errno)
}

/// The operating system's file system, through POSIX calls.
public struct POSIXFileSystem: WALFileSystem {
    /// The real file system.
    public init() {}

    /// Opens `path` with `O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC`, mode 0644.
    public func createFile(at path: FilePath) throws(Errno) -> any WALFileHandle {
        do {
            let descriptor = try FileDescriptor.open(
                path, .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            return POSIXFileHandle(descriptor)
        } catch {
            throw asErrno(error)
        }
    }

    /// Opens the directory read-only and `fsync`s it.
    public func synchronizeDirectory(at path: FilePath) throws(Errno) {
        try FileOps.synchronizeDirectory(path)
    }
}

/// A file descriptor opened by ``POSIXFileSystem``; closed on `close()` or when released.
final class POSIXFileHandle: WALFileHandle {
    private let descriptor: FileDescriptor
    private var isOpen = true

    init(_ descriptor: FileDescriptor) {
        self.descriptor = descriptor
    }

    deinit {
        if isOpen { try? descriptor.close() }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(Errno) {
        var written = 0
        while written < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[written...])
            let count: Int
            do {
                count = try descriptor.write(toAbsoluteOffset: offset + Int64(written), rest)
            } catch {
                throw asErrno(error)
            }
            // pwrite returning 0 for a non-empty buffer means no progress can be made.
            if count == 0 { throw Errno.noSpace }
            written += count
        }
    }

    func truncate(to length: Int64) throws(Errno) {
        do { try descriptor.resize(to: length) } catch { throw asErrno(error) }
    }

    func synchronize(dataOnly: Bool) throws(Errno) {
        try FileOps.synchronize(descriptor, dataOnly: dataOnly)
    }

    func close() throws(Errno) {
        guard isOpen else { return }
        isOpen = false
        do { try descriptor.close() } catch { throw asErrno(error) }
    }
}

/// SystemPackage throws `Errno` from untyped-throwing calls; this recovers it.
func asErrno(_ error: any Error) -> Errno {
    (error as? Errno) ?? Errno.ioError
}
