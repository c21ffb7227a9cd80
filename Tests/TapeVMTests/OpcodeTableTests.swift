import Testing
import CTapeKernels
@testable import TapeVM

@Suite struct OpcodeTableTests {
    @Test func cKernelsNumberOpcodesLikeTheTable() {
        #expect(Int(TV_OPCODE_COUNT.rawValue) == Opcode.allCases.count)
        for op in Opcode.allCases {
            #expect(String(cString: tv_opcode_name(Int32(op.rawValue))) == op.mnemonic)
        }
    }
}
