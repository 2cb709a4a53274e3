import Foundation
import JPEG
import TesseraCore
import Tiling

/// What became of one grid position a worker read.
enum TileOutcome {
    case kept(TileOutput, ArtefactQC.Verdict)
    case dropped(TileDropReason, ArtefactQC.Verdict?)
}

/// The positions to read, batch by batch in grid order, cut on worker threads while the calling
/// thread hands finished batches to the sink: the store's writes overlap the next batch's reads,
/// and a worker that finds a batch's positions all claimed goes on to the next one instead of
/// waiting for the batch's last tiles. Workers stay at most `lookahead` batches ahead of the
/// batch being handed over, so at most that many batches of encoded tiles are held.
final class TilePipeline: @unchecked Sendable {
    /// The cut of one position on one worker (its own reader and encoder); true when it was
    /// reduced in the decoder.
    typealias Cut = @Sendable (_ position: Int, _ worker: Int) throws -> (outcome: TileOutcome, scaledInDecoder: Bool)

    private let batches: [[Int]]
    private let claim: Int
    private let lookahead: Int
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var results: [[TileOutcome?]]
    private var finished: [Int]
    private var batch = 0
    private var nextInBatch = 0
    private var handedOver = 0
    private var failure: Error?
    private var stopping = false
    private(set) var scaledInDecoder = 0

    /// `batches`: the positions to read in each batch (possibly none); `claim`: consecutive
    /// positions a worker takes at once (never across a batch's end).
    init(batches: [[Int]], claim: Int, lookahead: Int = 2) {
        self.batches = batches
        self.claim = max(1, claim)
        self.lookahead = max(1, lookahead)
        results = batches.map { [TileOutcome?](repeating: nil, count: $0.count) }
        finished = [Int](repeating: 0, count: batches.count)
    }

    /// Runs `workers` threads cutting positions with `cut` and calls `deliver` on this thread with
    /// each batch's outcomes (a position's outcome, in the batch's order), batch after batch. The
    /// first error of a worker or of `deliver` stops the workers and is thrown once they have ended.
    func run(workers: Int, cut: @escaping Cut, deliver: (_ batch: Int, _ outcomes: [TileOutcome]) throws -> Void) throws {
        let group = DispatchGroup()
        for worker in 0..<max(1, workers) {
            group.enter()
            // Threads of their own, not the dispatch pool: the caller may itself be on a pool thread
            // (prediction tiles on one), and a pool as wide as the cores could leave a worker unstarted.
            let thread = Thread { [self] in
                work(worker, cut)
                group.leave()
            }
            thread.name = "tiler-\(worker)"
            thread.start()
        }
        var thrown: Error?
        do {
            for b in batches.indices {
                let outcomes = try take(b)
                try deliver(b, outcomes)
                condition.lock()
                handedOver = b + 1
                condition.broadcast()
                condition.unlock()
            }
        } catch {
            thrown = error
        }
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        group.wait()
        if let error = thrown { throw error }
    }

    /// Waits for batch `b` to be complete and takes its outcomes out (the memory goes with them).
    private func take(_ b: Int) throws -> [TileOutcome] {
        condition.lock()
        defer { condition.unlock() }
        while finished[b] < batches[b].count && failure == nil { condition.wait() }
        if let failure { throw failure }
        let outcomes = results[b].map { $0! }
        results[b] = []
        return outcomes
    }

    /// The next claim (batch, first index, end index), waiting while the workers are `lookahead`
    /// batches ahead; nil when there is nothing left or the pipeline is stopping.
    private func nextClaim() -> (batch: Int, range: Range<Int>)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if failure != nil || stopping { return nil }
            while batch < batches.count && nextInBatch >= batches[batch].count {
                batch += 1
                nextInBatch = 0
            }
            if batch >= batches.count { return nil }
            if batch < handedOver + lookahead { break }
            condition.wait()
        }
        let first = nextInBatch
        nextInBatch = min(first + claim, batches[batch].count)
        return (batch, first..<nextInBatch)
    }

    private func work(_ worker: Int, _ cut: Cut) {
        while let (b, range) = nextClaim() {
            for k in range {
                do {
                    let (outcome, scaled) = try cut(batches[b][k], worker)
                    condition.lock()
                    results[b][k] = outcome
                    finished[b] += 1
                    if scaled { scaledInDecoder += 1 }
                    if finished[b] == batches[b].count { condition.broadcast() }
                    condition.unlock()
                } catch {
                    condition.lock()
                    if failure == nil { failure = error }
                    condition.broadcast()
                    condition.unlock()
                    return
                }
            }
        }
    }
}
