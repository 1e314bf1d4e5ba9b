import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The blocking POSIX calls the reader and the snapshot code make directly (not injectable).
enum FileOps {
    /// `fdatasync` (where the platform has it) or `fsync`.
    static func synchronize(_ descriptor: FileDescriptor, dataOnly: Bool) throws(Errno) {
        while true {
            #if canImport(Darwin)
                let result = fsync(descriptor.rawValue)
            #else
                let result = dataOnly ? fdatasync(descriptor.rawValue) : fsync(descriptor.rawValue)
            #endif
            if result == 0 { return }
            let error = Errno(rawValue: errno)
            if error != .interrupted { throw error }
        }
    }

    /// Opens a directory and `fsync`s it, so that created, renamed and removed entries are durable.
    static func synchronizeDirectory(_ path: FilePath) throws(Errno) {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(path, .readOnly, options: [.directory, .closeOnExec])
        } catch {
            throw asErrno(error)
        }
        defer { try? descriptor.close() }
        try synchronize(descriptor, dataOnly: false)
    }

    /// The names in a directory, without `.` and `..`, in no particular order.
    static func listDirectory(_ path: FilePath) throws(IOFailure) -> [String] {
        guard let directory = path.withPlatformString({ opendir($0) }) else {
            throw IOFailure(.list, path: path.string, errno: Errno(rawValue: errno))
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: pointer.pointee)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates a directory (mode 0755) unless it exists.
    static func createDirectoryIfMissing(_ path: FilePath) throws(IOFailure) {
        let result = path.withPlatformString { mkdir($0, 0o755) }
        if result != 0 && errno != EEXIST {
            throw IOFailure(.createDirectory, path: path.string, errno: Errno(rawValue: errno))
        }
    }

    /// The file's length in bytes, or `nil` if it does not exist.
    static func fileSize(_ path: FilePath) throws(IOFailure) -> Int64? {
        var info = stat()
        let result = path.withPlatformString { stat($0, &info) }
        if result != 0 {
            if errno == ENOENT { return nil }
            throw IOFailure(.read, path: path.string, errno: Errno(rawValue: errno))
        }
        return Int64(info.st_size)
    }

    /// Reads the whole file into `buffer` (grown as needed, capacity reused) and returns its length.
    static func readWholeFile(_ path: FilePath, into buffer: inout [UInt8]) throws(IOFailure) -> Int {
        do {
            let descriptor = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
            defer { try? descriptor.close() }
            let length = Int(try descriptor.seek(offset: 0, from: .end))
            if buffer.count < length {
                buffer = [UInt8](repeating: 0, count: length)
            }
            try buffer.withUnsafeMutableBytes { bytes in
                var done = 0
                while done < length {
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: bytes[done..<length])
                    let count = try descriptor.read(fromAbsoluteOffset: Int64(done), into: chunk)
                    if count == 0 { throw Errno.ioError }  // the file shrank under us
                    done += count
                }
            }
            return length
        } catch {
            throw IOFailure(.read, path: path.string, errno: asErrno(error))
        }
    }

    /// Whether any of the `count` bytes at `offset` of the file is non-zero (bytes past its end count as zero).
    static func hasNonZeroBytes(_ path: FilePath, from offset: Int64, count: Int = 32) throws(IOFailure) -> Bool {
        do {
            let descriptor = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
            defer { try? descriptor.close() }
            var bytes = [UInt8](repeating: 0, count: count)
            let read = try bytes.withUnsafeMutableBytes { try descriptor.read(fromAbsoluteOffset: offset, into: $0) }
            return bytes[0..<read].contains { $0 != 0 }
        } catch {
            throw IOFailure(.read, path: path.string, errno: asErrno(error))
        }
    }

    /// Truncates the file at `path` to `length` bytes and `fsync`s it.
    static func truncateFile(_ path: FilePath, to length: Int64) throws(IOFailure) {
        do {
            let descriptor = try FileDescriptor.open(path, .writeOnly, options: [.closeOnExec])
            defer { try? descriptor.close() }
            try descriptor.resize(to: length)
            try synchronize(descriptor, dataOnly: false)
        } catch {
            throw IOFailure(.truncate, path: path.string, errno: asErrno(error))
        }
    }

    /// Renames `source` to `destination` (atomically replacing it).
    static func rename(_ source: FilePath, to destination: FilePath) throws(IOFailure) {
        let result = source.withPlatformString { from in
            destination.withPlatformString { to in systemRename(from, to) }
        }
        if result != 0 {
            throw IOFailure(.rename, path: source.string, errno: Errno(rawValue: errno))
        }
    }

    /// Removes the file at `path`; a missing file is not an error.
    static func remove(_ path: FilePath) throws(IOFailure) {
        let result = path.withPlatformString { unlink($0) }
        if result != 0 && errno != ENOENT {
            throw IOFailure(.remove, path: path.string, errno: Errno(rawValue: errno))
        }
    }
}

/// `rename(2)`, named apart from `FileOps.rename`.
@inline(__always)
private func systemRename(_ from: UnsafePointer<CChar>, _ to: UnsafePointer<CChar>) -> Int32 {
    rename(from, to)
}
