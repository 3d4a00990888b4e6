# scripts/bench-plot.gp: plots scripts/bench-peers.sh's medians (bench.dat:
# server, /profile req/s, /profile p99 ms, /views req/s, /views p99 ms, then
# Redis figures) to a PNG. scripts/bench-peers.sh runs it:
#   gnuplot -e "dat='docs/img/bench.dat'; out='docs/img/bench.png'; title='…'" scripts/bench-plot.gp
# Left: requests per second per server, GET /profile and GET /views side by
# side (higher is better). Right: p99 latency in ms (lower is better). Each
# bar is labelled with its value.
if (!exists("dat")) dat = "bench.dat"
if (!exists("out")) out = "bench.png"
if (!exists("title")) title = ""
set terminal pngcairo size 1400,600 font ",10"
set output out
set datafile commentschars "#"
set datafile missing "NaN"
set multiplot layout 1,2 title "tether against its peers: wrk -t2 -c50 -d10s, one session cookie, medians over rounds (".title.")"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key below horizontal
set offsets 0, 0, graph 0.08, 0  # room above the tallest bar for its label
set xtics rotate by -20 nomirror
set yrange [0:*]
set title "requests per second (higher is better)"
set ylabel "req/s"
plot dat using 2:xtic(1) title "GET /profile" lc rgb "#3b6ea8", \
     ''  using 4 title "GET /views" lc rgb "#e08a2c", \
     ''  using ($0-0.17):2:(sprintf("%.0f", $2)) with labels offset 0,0.6 font ",8" notitle, \
     ''  using ($0+0.17):4:(sprintf("%.0f", $4)) with labels offset 0,0.6 font ",8" notitle
set title "p99 latency (lower is better)"
set ylabel "ms"
plot dat using 3:xtic(1) title "GET /profile" lc rgb "#3b6ea8", \
     ''  using 5 title "GET /views" lc rgb "#e08a2c", \
     ''  using ($0-0.17):3:(sprintf("%.1f", $3)) with labels offset 0,0.6 font ",8" notitle, \
     ''  using ($0+0.17):5:(sprintf("%.1f", $5)) with labels offset 0,0.6 font ",8" notitle
unset multiplot
