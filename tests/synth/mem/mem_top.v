// The ROM and the RAM side by side, from three source files: the hierarchy is flattened
// by kiln synth. The line buffer is written with the ROM's word (sign-extended).
module mem_top (
    input  wire        clk,
    input  wire [9:0]  rom_addr,
    input  wire        we,
    input  wire [8:0]  waddr,
    input  wire [8:0]  raddr,
    output wire [17:0] q
);
    wire [15:0] w;
    rom weights (.clk(clk), .addr(rom_addr), .q(w));
    ram line (.clk(clk), .we(we), .waddr(waddr), .raddr(raddr), .d({{2{w[15]}}, w}), .q(q));
endmodule
