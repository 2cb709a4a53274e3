/// Which slides each array task tiles: disjoint shares that together cover every slide once,
/// balanced by slide size (file bytes, a fair proxy for pixels to read) rather than count.
public enum ShardPlan {
    /// Greedy longest-processing-time assignment: biggest slide first, each to the least-loaded
    /// shard (ties to the lower index). Deterministic from the inputs alone, so every task computes
    /// the same plan. Returns the indices of `sizes` per shard, in ascending order.
    public static func assign(sizes: [Int64], ids: [String], shards: Int) -> [[Int]] {
        precondition(shards >= 1, "need at least one shard")
        precondition(sizes.count == ids.count)
        let order = sizes.indices.sorted { a, b in
            sizes[a] != sizes[b] ? sizes[a] > sizes[b] : ids[a] < ids[b]
        }
        var load = [Int64](repeating: 0, count: shards)
        var members = [[Int]](repeating: [], count: shards)
        for i in order {
            var best = 0
            for s in 1..<shards where load[s] < load[best] || (load[s] == load[best] && members[s].count < members[best].count) {
                best = s
            }
            load[best] += max(sizes[i], 1)
            members[best].append(i)
        }
        return members.map { $0.sorted() }
    }
}
