module m(input a, output b);
  assign b = a;
endmodule
