// Eight registered 16-bit unsigned inputs summed by a balanced tree of adders into a
// registered 19-bit result: LUTs and carry chains, no DSP, 8 x 16 + 19 = 147 flip-flops.
module adder_tree (
    input  wire        clk,
    input  wire [15:0] x0, x1, x2, x3, x4, x5, x6, x7,
    output reg  [18:0] sum
);
    reg [15:0] r0, r1, r2, r3, r4, r5, r6, r7;
    wire [16:0] s01 = r0 + r1;
    wire [16:0] s23 = r2 + r3;
    wire [16:0] s45 = r4 + r5;
    wire [16:0] s67 = r6 + r7;
    wire [17:0] s03 = s01 + s23;
    wire [17:0] s47 = s45 + s67;
    always @(posedge clk) begin
        r0 <= x0; r1 <= x1; r2 <= x2; r3 <= x3;
        r4 <= x4; r5 <= x5; r6 <= x6; r7 <= x7;
        sum <= s03 + s47;
    end
endmodule
