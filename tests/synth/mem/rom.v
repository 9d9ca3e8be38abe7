// A 1024 x 16 ROM (16 Kbit) with a registered read, its contents from rom.mem: a
// weight table. Large enough for a block RAM (RAMB18) rather than distributed ROM.
module rom (
    input  wire        clk,
    input  wire [9:0]  addr,
    output reg  [15:0] q
);
    reg [15:0] table_q [0:1023];
    initial $readmemh("rom.mem", table_q);
    always @(posedge clk) q <= table_q[addr];
endmodule
