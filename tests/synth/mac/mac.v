// A registered signed 8x8 multiply-accumulate, the inner step of a convolution: the
// operands are registered, the product is registered, and the 24-bit accumulator clears
// on `clear`. synth_xilinx must put the product (and on 7-series the accumulation) into
// one DSP48.
module mac (
    input  wire               clk,
    input  wire               clear,
    input  wire signed [7:0]  a,
    input  wire signed [7:0]  b,
    output reg  signed [23:0] acc
);
    reg signed [7:0]  a_r, b_r;
    reg signed [15:0] p_r;
    always @(posedge clk) begin
        a_r <= a;
        b_r <= b;
        p_r <= a_r * b_r;
        if (clear)
            acc <= 24'sd0;
        else
            acc <= acc + p_r;
    end
endmodule
