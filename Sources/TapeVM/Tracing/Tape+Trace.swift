extension Tape {
    /// Makes a tape by running ordinary Swift code on ``Traced`` values.
    ///
    /// The body receives one ``Traced`` per input and one per parameter, in the order named, and
    /// returns the outputs, which are named `y0`, `y1`, … (use
    /// ``trace(inputs:parameters:outputs:_:)`` to name them). Every operator and math function the
    /// body applies is recorded as one instruction:
    ///
    /// ```swift
    /// let neuron = try Tape.trace(inputs: ["x0", "x1"], parameters: ["w0", "w1", "w2"]) { x, w in
    ///     [sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])]
    /// }
    /// ```
    ///
    /// The trace records the one path the code takes while tracing: Swift `if` cannot test a
    /// traced value (there is no `Bool` until the tape runs), so branch with
    /// `select(condition, ifNonzero, ifZero)` and the comparisons `lt`, `le`, `gt`, `ge`, `eq`,
    /// `ne`. Loops and branches on ordinary Swift values are unrolled into the tape.
    ///
    /// Inputs and parameters are declared first, in order, so slot `k` is the `k`-th name even when
    /// the body does not use it. An output that is a constant (the body never touched a traced
    /// value) becomes a `const` instruction, so the tape is valid either way.
    ///
    /// - Throws: ``TapeError`` if names repeat or are empty, a name is both an input and a
    ///   parameter, the body returns no outputs, or a `powi` exponent is out of range; and
    ///   whatever the body throws.
    /// - Precondition: the body's values must come from this trace, not from another one.
    public static func trace(inputs: [String], parameters: [String] = [],
                             _ body: ([Traced], [Traced]) throws -> [Traced]) throws -> Tape {
        try record(inputs: inputs, parameters: parameters, outputs: nil, body)
    }

    /// Makes a tape by running ordinary Swift code on ``Traced`` values, naming the outputs.
    ///
    /// The same as ``trace(inputs:parameters:_:)``, except that the body's results are named by
    /// `outputs`, which must have one name per result.
    ///
    /// - Throws: ``TapeError`` as ``trace(inputs:parameters:_:)`` does, and
    ///   ``TapeError/Kind/outputOutOfRange`` if the body returns a different number of results
    ///   than `outputs` names.
    public static func trace(inputs: [String], parameters: [String] = [], outputs: [String],
                             _ body: ([Traced], [Traced]) throws -> [Traced]) throws -> Tape {
        try record(inputs: inputs, parameters: parameters, outputs: outputs, body)
    }

    /// Traces a function of one input into a tape with one output named `f`.
    ///
    /// ```swift
    /// let tape = try Tape.trace("x") { x in x * x + x }
    /// ```
    ///
    /// See ``trace(inputs:parameters:_:)`` for what a trace records.
    public static func trace(_ x: String, _ body: (Traced) throws -> Traced) throws -> Tape {
        try record(inputs: [x], parameters: [], outputs: ["f"]) { v, _ in [try body(v[0])] }
    }

    /// Traces a function of two inputs into a tape with one output named `f`.
    ///
    /// ```swift
    /// let tape = try Tape.trace("x", "y") { x, y in max(x, y) * 2 }
    /// ```
    public static func trace(_ x: String, _ y: String,
                             _ body: (Traced, Traced) throws -> Traced) throws -> Tape {
        try record(inputs: [x, y], parameters: [], outputs: ["f"]) { v, _ in [try body(v[0], v[1])] }
    }

    /// Traces a function of three inputs into a tape with one output named `f`.
    ///
    /// ```swift
    /// let tape = try Tape.trace("x", "y", "z") { x, y, z in (x + y) * z }
    /// ```
    public static func trace(_ x: String, _ y: String, _ z: String,
                             _ body: (Traced, Traced, Traced) throws -> Traced) throws -> Tape {
        try record(inputs: [x, y, z], parameters: [], outputs: ["f"]) { v, _ in [try body(v[0], v[1], v[2])] }
    }

    /// Traces a function of four inputs into a tape with one output named `f`.
    public static func trace(_ x: String, _ y: String, _ z: String, _ w: String,
                             _ body: (Traced, Traced, Traced, Traced) throws -> Traced) throws -> Tape {
        try record(inputs: [x, y, z, w], parameters: [], outputs: ["f"]) { v, _ in
            [try body(v[0], v[1], v[2], v[3])]
        }
    }

    private static func record(inputs: [String], parameters: [String], outputs: [String]?,
                               _ body: ([Traced], [Traced]) throws -> [Traced]) throws -> Tape {
        // The builder reuses a leaf per name, so a repeated name would silently merge two
        // arguments; refuse it before tracing.
        var seen = Set<String>()
        for name in inputs + parameters where !seen.insert(name).inserted {
            throw TapeError(.duplicateName, "trace: '\(name)' is named twice among the inputs and parameters")
        }
        let builder = TapeBuilder()
        let x = inputs.map { Traced(builder.input($0), on: builder) }
        let w = parameters.map { Traced(builder.parameter($0), on: builder) }
        let results = try body(x, w)
        let names = outputs ?? results.indices.map { "y\($0)" }
        guard names.count == results.count else {
            throw TapeError(.outputOutOfRange,
                "trace: \(names.count) output name(s) given but the body returned \(results.count) value(s)")
        }
        for (name, value) in zip(names, results) {
            builder.output(name, value.register(on: builder))
        }
        return try builder.build()
    }
}
