import Foundation
import TesseraCore

/// Writes one synthetic slide as a pyramid, streaming: level 0 is rendered one row of tiles at a
/// time (on all cores), written, and averaged into the lower levels, which wait in raw spool
/// files beside the output until their turn. Peak memory is a few strips, whatever the slide's area.
public struct SlideSynthesizer: Sendable {
    public let spec: SlideSpec
    public let layout: PyramidLayout
    public let renderer: SlideRenderer

    public init(spec: SlideSpec, tileSize: Int) {
        self.spec = spec
        layout = PyramidLayout(width: spec.width, height: spec.height, tileSize: tileSize)
        renderer = SlideRenderer(spec: spec)
    }

    /// Writes the slide to `url` atomically: under a temporary name, renamed when complete, so a
    /// file at `url` is always a finished slide. `progress` advances once per level-0 tile row.
    public func writeFile(at url: URL, makeSink: PyramidSinkFactory, progress: ProgressLog? = nil) throws {
        let tmp = AtomicFile.temporaryURL(for: url)
        let sink = try makeSink(tmp.path, spec, layout)
        do {
            try write(to: sink, spoolingAt: tmp, progress: progress)
            try sink.close()
            try AtomicFile.commit(tmp, to: url)
        } catch {
            sink.discard()
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    /// Streams every level into `sink`. Spool files are named after `spoolBase` (`….level1.raw`, …).
    public func write(to sink: any PyramidSink, spoolingAt spoolBase: URL, progress: ProgressLog? = nil) throws {
        let levels = layout.levels
        let tile = layout.tileSize
        var spools: [LevelSpool] = []
        var reducers: [AreaDownsampler] = []
        for k in 1..<levels.count {
            spools.append(try LevelSpool(url: spoolBase.appendingPathExtension("level\(k).raw"), width: levels[k].width))
            reducers.append(AreaDownsampler(inputWidth: levels[k - 1].width))
        }

        try sink.beginLevel(0, width: levels[0].width, height: levels[0].height)
        for row in 0..<layout.tileRows(0) {
            let y = row * tile
            let strip = renderer.render(x: 0, y: y, width: levels[0].width, height: min(tile, levels[0].height - y))
            try sink.writeTileRow(row, strip: strip)
            var reduced = strip
            for k in 0..<reducers.count {
                reduced = reducers[k].push(reduced)
                try spools[k].append(reduced)
            }
            progress?.advance()
        }
        try sink.endLevel()

        for (i, spool) in spools.enumerated() {
            let level = levels[i + 1]
            precondition(spool.rows == level.height, "level \(i + 1) has \(spool.rows) rows, expected \(level.height)")
            try sink.beginLevel(i + 1, width: level.width, height: level.height)
            try spool.forEachStrip(of: tile) { row, strip in try sink.writeTileRow(row, strip: strip) }
            try sink.endLevel()
        }
    }
}
