import TesseraCore

/// The flat buffers of a set of layers: ONE contiguous parameter buffer, ONE gradient buffer of the
/// same layout, and one state buffer (BatchNorm running statistics). Layers hold views into them, so
/// zeroing gradients is one fill and averaging them across ranks is one in-place allreduce.
/// (llm.c's `malloc_and_point_parameters`.)
public final class ParameterStore {
    /// Every trainable value, in `parameterInfo` order.
    public let parameters: UnsafeMutableBufferPointer<Float>
    /// dLoss/dparameters, same layout; backward passes accumulate into it.
    public let gradients: UnsafeMutableBufferPointer<Float>
    /// Non-trainable state (running mean/variance), in `stateInfo` order.
    public let state: UnsafeMutableBufferPointer<Float>
    public let parameterInfo: [ParameterInfo]
    public let stateInfo: [StateInfo]

    /// Allocates the buffers for `layers` (names prefixed with each layer's name) and binds them.
    public init(layers: [Layer]) {
        var pInfo: [ParameterInfo] = [], sInfo: [StateInfo] = []
        var initialState: [Float] = []
        var pOffset = 0, sOffset = 0
        for layer in layers {
            for r in layer.parameterRequests {
                pInfo.append(ParameterInfo(name: "\(layer.name).\(r.name)", shape: r.shape, kind: r.kind, offset: pOffset, count: r.count))
                pOffset += r.count
            }
            for r in layer.stateRequests {
                sInfo.append(StateInfo(name: "\(layer.name).\(r.name)", shape: r.shape, offset: sOffset, count: r.count))
                initialState += [Float](repeating: r.initialValue, count: r.count)
                sOffset += r.count
            }
        }
        parameters = .allocate(capacity: pOffset)
        parameters.initialize(repeating: 0)
        gradients = .allocate(capacity: pOffset)
        gradients.initialize(repeating: 0)
        state = .allocate(capacity: sOffset)
        _ = state.initialize(from: initialState)
        parameterInfo = pInfo
        stateInfo = sInfo

        let pTensors = pInfo.map {
            ParameterTensor(value: parameters.baseAddress! + $0.offset, gradient: gradients.baseAddress! + $0.offset,
                            offset: $0.offset, count: $0.count, store: self)
        }
        let sTensors = sInfo.map { StateTensor(value: state.baseAddress! + $0.offset, offset: $0.offset, count: $0.count, store: self) }
        var pi = 0, si = 0
        for layer in layers {
            let np = layer.parameterRequests.count, ns = layer.stateRequests.count
            layer.bind(parameters: pTensors[pi..<(pi + np)], state: sTensors[si..<(si + ns)])
            pi += np
            si += ns
        }
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
        state.deallocate()
    }

    public var parameterCount: Int { parameters.count }

    public func zeroGradients() { gradients.update(repeating: 0) }
}

/// Hands a composite layer's slices on to its children, in request order.
struct BindingCursor {
    private var parameters: ArraySlice<ParameterTensor>
    private var state: ArraySlice<StateTensor>

    init(parameters: ArraySlice<ParameterTensor>, state: ArraySlice<StateTensor>) {
        self.parameters = parameters
        self.state = state
    }

    mutating func bind(_ layer: Layer) {
        let np = layer.parameterRequests.count, ns = layer.stateRequests.count
        layer.bind(parameters: parameters.prefix(np), state: state.prefix(ns))
        parameters = parameters.dropFirst(np)
        state = state.dropFirst(ns)
    }

    func finish(_ owner: String) {
        precondition(parameters.isEmpty && state.isEmpty, "\(owner): bound more tensors than its children asked for")
    }
}
