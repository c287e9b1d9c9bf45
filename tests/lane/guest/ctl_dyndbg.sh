# dynamic_debug: sites switched on and off by file, module and function, listed, and a query
# the kernel refuses. The host compares the control file after each step with the first one.
. "$RTRACE_IN/lane.sh"
SNAP_DD=1
snap initial
step file_on rt dyndbg 'file kernel/cpu.c +p'
step list rt dyndbg -l kernel/cpu.c
step file_off rt dyndbg 'file kernel/cpu.c -p'
step module_on rt dyndbg 'module cpu +p'
step module_off rt dyndbg 'module cpu -p'
step func_on rt dyndbg 'func cpu_init +pf'
step func_off rt dyndbg 'func cpu_init -pf'
step bad rt dyndbg 'frobnicate kernel/cpu.c +p'
