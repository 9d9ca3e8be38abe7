// A 512 x 18 simple dual-port RAM (one write port, one registered read port): a line
// buffer. Maps to one RAMB18.
module ram (
    input  wire        clk,
    input  wire        we,
    input  wire [8:0]  waddr,
    input  wire [8:0]  raddr,
    input  wire [17:0] d,
    output reg  [17:0] q
);
    reg [17:0] mem [0:511];
    always @(posedge clk) begin
        if (we) mem[waddr] <= d;
        q <= mem[raddr];
    end
endmodule
