import CZstd

/// A zstd streaming compression context (`ZSTD_compressStream2`) with its reused output buffer.
/// One frame per instance; not thread-safe.
final class ZstdCompressor {
    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer

    /// Creates a context at `level` with the frame's content checksum on; `pledgedSize` (if known) is
    /// recorded in the frame header.
    init(level: Int32, pledgedSize: UInt64?) throws(StorageError) {
        guard let context = ZSTD_createCCtx() else { throw .compression(code: 0, name: "ZSTD_createCCtx failed") }
        self.context = context
        output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        // Compress on two zstd worker threads when the library supports it (Debian's does): a snapshot is
        // written off the matching path, and the output is the same frame format either way. Best effort.
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, 2)
        if let pledgedSize { try check(ZSTD_CCtx_setPledgedSrcSize(context, pledgedSize)) }
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    /// Compresses `input` (ending the frame if `end`), handing each filled output chunk to `sink`.
    func compress(
        _ input: UnsafeRawBufferPointer, end: Bool, sink: (UnsafeRawBufferPointer) throws(StorageError) -> Void
    ) throws(StorageError) {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        let directive = end ? ZSTD_e_end : ZSTD_e_continue
        while true {
            var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &outBuffer, &inBuffer, directive)
            try check(remaining)
            if outBuffer.pos > 0 { try sink(UnsafeRawBufferPointer(rebasing: output[0..<outBuffer.pos])) }
            let done = end ? remaining == 0 : inBuffer.pos == inBuffer.size
            if done { return }
        }
    }

    private func check(_ code: Int) throws(StorageError) {
        if ZSTD_isError(code) != 0 {
            throw .compression(code: code, name: String(cString: ZSTD_getErrorName(code)))
        }
    }
}

/// A zstd streaming decompression context (`ZSTD_decompressStream`). Not thread-safe.
final class ZstdDecompressor {
    private let context: OpaquePointer
    /// Whether the last call completed a frame (and flushed all its output).
    private(set) var frameComplete = false

    init() throws(StorageError) {
        guard let context = ZSTD_createDCtx() else { throw .compression(code: 0, name: "ZSTD_createDCtx failed") }
        self.context = context
    }

    deinit {
        ZSTD_freeDCtx(context)
    }

    /// The recommended output chunk size.
    static var recommendedOutputSize: Int { ZSTD_DStreamOutSize() }

    /// Decompresses from `input` (advancing `input.pos`) into `output` (advancing `output.pos`) until the
    /// input is consumed or the output is full. Returns a zstd error name on failure.
    func decompress(_ input: inout ZSTD_inBuffer, _ output: inout ZSTD_outBuffer) -> String? {
        let result = ZSTD_decompressStream(context, &output, &input)
        if ZSTD_isError(result) != 0 { return String(cString: ZSTD_getErrorName(result)) }
        frameComplete = result == 0
        return nil
    }
}
