// A 64 x 4 accumulator array in distributed RAM: each cycle reads one entry at `ra` and
// writes it back plus `d` at `wa` (a read-modify-write, as a kernel's accumulators), and
// registers the entry read. `ltp` must count the RAM cell from its read address to its
// read data only: through its clocked write side the adder would loop into itself.
module acc (
    input  wire       clk,
    input  wire [5:0] wa,
    input  wire [5:0] ra,
    input  wire [3:0] d,
    input  wire       we,
    output reg  [3:0] q
);
    reg [3:0] mem [0:63];
    always @(posedge clk) begin
        if (we) mem[wa] <= mem[ra] + d;
        q <= mem[ra] + 4'd1;
    end
endmodule
