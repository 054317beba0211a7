# bench/plot.gp: draws segjit-bench's ratios to hand-written C (lower is better) as a
# clustered bar chart with a log scale. segjit-bench --plot calls it as
#   gnuplot -e "datafile='DATA'; outfile='OUT.png'; subtitle='CPU'; ncols=N" plot.gp
# DATA: a header line (case and one column per implementation, N columns in all), then
# one line per workload and size; "?" marks an implementation not measured there.
if (!exists("datafile")) datafile = "ratios.dat"
if (!exists("outfile")) outfile = "ratios.png"
if (!exists("subtitle")) subtitle = ""
if (!exists("ncols")) ncols = 7

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1400,720 noenhanced font ",10"
} else {
    set terminal png size 1400,720 noenhanced
}
set output outfile

set title "segjit-bench: time / time of hand-written C, same run (lower is better)\n".subtitle
set datafile missing "?"
set style data histograms
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set yrange [0.125:4<*]
set ytics ("1/8" 0.125, "1/4" 0.25, "1/2" 0.5, "1" 1, "1.1" 1.1, "2" 2, "3" 3, "4" 4, "8" 8, "16" 16, "32" 32)
set grid ytics
set ylabel "ratio to hand-written C (log scale)"
set xtics rotate by -30 nomirror
set key outside right top vertical
# 1 = hand-written C; 1.10 = the JIT target; 3 = the interpreter target
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black" front
set arrow 2 from graph 0, first 1.1 to graph 1, first 1.1 nohead dt 2 lc rgb "red" front
set arrow 3 from graph 0, first 3 to graph 1, first 3 nohead dt 3 lc rgb "gray40" front

plot for [col=2:ncols] datafile using col:xtic(1) title columnheader(col)
