// A syntax error on line 3: a missing operand.
module broken(input [3:0] a, output [3:0] b);
  assign b = a +;
endmodule
