# scripts/soak-plot.gp: plots a soak timeline (tools/soak's soak.csv and
# events.csv) to a PNG. scripts/soak.sh runs it:
#   gnuplot -e "dir='OUT'; out='docs/img/soak.png'" scripts/soak-plot.gp
# Top: p50 and p99 latency through the proxy per second (log scale), with
# the faults as vertical lines. Bottom: RSS of each instance (left axis)
# and goroutines (right axis). A zero is a second an instance was down.
if (!exists("dir")) dir = "."
if (!exists("out")) out = "soak.png"
set terminal pngcairo size 1200,800 font ",10"
set output out
set datafile commentschars "#"
set multiplot layout 2,1 title "tether soak: two instances on Redis behind a round-robin proxy (shared 2-core machine)"
set grid
set key top right
set xlabel "seconds"
# The faults, as labelled vertical lines on both panels.
stats dir."/events.csv" using 1 nooutput
nev = STATS_records
set logscale y
set ylabel "latency (ms)"
do for [i=0:nev-1] {
  t = real(system(sprintf("awk 'NR==%d{print $1}' %s/events.csv", i+1, dir)))
  set arrow from t, graph 0 to t, graph 1 nohead dt 2 lc rgb "gray40"
  set label system(sprintf("awk -F'\"' 'NR==%d{print $2}' %s/events.csv", i+1, dir)) at t, graph 0.97 rotate by 90 right font ",8" offset 1,0
}
plot dir."/soak.csv" using 1:($4>0?$4:1/0) with lines lw 1.5 title "p50", \
     dir."/soak.csv" using 1:($5>0?$5:1/0) with lines lw 1.5 title "p99"
unset logscale y
unset label
set ylabel "RSS (MiB)"
set y2label "goroutines"
set y2tics
set ytics nomirror
set yrange [0:*]
set y2range [0:*]
plot dir."/soak.csv" using 1:($6>0?$6:1/0) with lines lw 1.5 title "RSS tether-a", \
     dir."/soak.csv" using 1:($7>0?$7:1/0) with lines lw 1.5 title "RSS tether-b", \
     dir."/soak.csv" using 1:($8>0?$8:1/0) axes x1y2 with lines dt 3 title "goroutines tether-a", \
     dir."/soak.csv" using 1:($9>0?$9:1/0) axes x1y2 with lines dt 3 title "goroutines tether-b"
unset multiplot
