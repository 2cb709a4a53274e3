import FeatureStore
import Foundation
import TesseraCore

/// The labelled slides of one split of a feature store, each a bag of tile embeddings.
public struct BagSet: Sendable {
    public var split: String
    public var slides: [SlideFeatures]
    /// Class index of each slide.
    public var labels: [Int]

    public var count: Int { slides.count }

    /// Loads every feature file of `split`. Slides without a label, without tiles, or with a label
    /// outside `classes` are skipped with a warning (unless `requireLabels` is false: then
    /// unlabelled slides are kept with label −1, for prediction). A file that cannot be read is
    /// skipped with a warning naming it; a width other than `width` is an error.
    public static func load(store: URL, split: String, classes: [String]?, width: Int? = nil, requireLabels: Bool = true) throws -> BagSet {
        var slides: [SlideFeatures] = []
        for url in FeatureStoreLayout.files(in: store, split: split) {
            let slide: SlideFeatures
            do { slide = try FeatureFile.read(url) } catch {
                Log.warning("\(url.path) skipped: \(error)")
                continue
            }
            if let width, slide.width != width {
                throw TesseraError.invalidInput(path: url.path, message: "embeddings of width \(slide.width), the others' are \(width)",
                                                hint: "embed the whole store with one model (tessera-predict embed)")
            }
            guard slide.tileCount > 0 else { Log.warning("\(url.path): no tiles, skipped"); continue }
            if requireLabels && slide.label == nil { Log.warning("\(url.path): no label attribute, skipped"); continue }
            slides.append(slide)
        }
        let names = classes ?? Array(Set(slides.compactMap(\.label))).sorted()
        var kept: [SlideFeatures] = [], labels: [Int] = []
        for slide in slides {
            let index = slide.label.flatMap { names.firstIndex(of: $0) }
            if index == nil && requireLabels {
                Log.warning("\(split)/\(slide.slideID): label \(slide.label ?? "") is not one of \(names.joined(separator: ", ")); skipped")
                continue
            }
            kept.append(slide)
            labels.append(index ?? -1)
        }
        return BagSet(split: split, slides: kept, labels: labels)
    }

    public var classNames: [String] { Array(Set(slides.compactMap(\.label))).sorted() }

    /// The tiles of slide `index` used in `epoch`: all of them when the slide has at most `cap`
    /// (or cap is 0), else a random subset of `cap` in file order, drawn from (seed, epoch, slide)
    /// only — the same on every rank and on a resumed run.
    public static func cappedTiles(count: Int, cap: Int, seed: UInt64, epoch: Int, slide: Int) -> [Int] {
        guard cap > 0 && count > cap else { return Array(0..<count) }
        var rng = SeededGenerator(seed: mixHash(seed, UInt64(epoch), mixHash(UInt64(slide), 0xBA6)))
        var indices = Array(0..<count)
        for i in 0..<cap {
            let j = i + Int(rng.next() % UInt64(count - i))
            indices.swapAt(i, j)
        }
        return indices[0..<cap].sorted()
    }

    /// Bag `index`'s features restricted to `tiles`: tiles × D.
    public func bag(_ index: Int, tiles: [Int]) -> [Float] {
        let slide = slides[index]
        if tiles.count == slide.tileCount { return slide.features }
        return tiles.flatMap { slide.tile($0) }
    }
}
