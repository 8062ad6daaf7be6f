package org.memhygiene.core.linux;

import com.sun.jna.LastErrorException;

/**
 * Per-thread scheduling calls. On Linux the nice value belongs to a thread, not to the process: with
 * PRIO_PROCESS and a thread id, setpriority changes only that thread
 * (https://man7.org/linux/man-pages/man2/setpriority.2.html, NOTES "nice value is a per-thread attribute").
 */
public final class LinuxThread {
    /** PRIO_PROCESS from https://github.com/torvalds/linux/blob/master/include/uapi/linux/resource.h. */
    static final int PRIO_PROCESS = 0;
    /** The nice range of sched(7) (https://man7.org/linux/man-pages/man7/sched.7.html). */
    public static final int NICE_MIN = -20;

    public static final int NICE_MAX = 19;
    /** _SC_CLK_TCK from glibc's bits/confname.h (https://man7.org/linux/man-pages/man3/sysconf.3.html). */
    static final int SC_CLK_TCK = 2;

    private LinuxThread() {}

    /** The unit of CPU times in /proc/PID/stat: sysconf(_SC_CLK_TCK), USER_HZ (100 on most systems). */
    public static long clockTicksPerSecond() {
        try {
            return LibC.INSTANCE.sysconf(SC_CLK_TCK);
        } catch (LastErrorException e) {
            throw new NativeCallException("sysconf", e.getErrorCode(), "_SC_CLK_TCK");
        }
    }

    /** The calling thread's kernel id (gettid), as in /proc/self/task/TID. */
    public static int currentThreadId() {
        return LibC.INSTANCE.gettid();
    }

    /** The calling thread's nice value, -20 (favoured) to 19 (least favoured). */
    public static int currentNice() {
        int tid = currentThreadId();
        try {
            return LibC.INSTANCE.getpriority(PRIO_PROCESS, tid);
        } catch (LastErrorException e) {
            throw new NativeCallException("getpriority", e.getErrorCode(), "PRIO_PROCESS, tid=" + tid);
        }
    }

    /**
     * Sets the calling thread's nice value. Raising it is always allowed; lowering it needs
     * CAP_SYS_NICE or RLIMIT_NICE headroom (EACCES otherwise).
     */
    public static void setCurrentNice(int nice) {
        if (nice < NICE_MIN || nice > NICE_MAX) {
            throw new IllegalArgumentException("nice must be in [" + NICE_MIN + ", " + NICE_MAX + "], got " + nice);
        }
        int tid = currentThreadId();
        try {
            LibC.INSTANCE.setpriority(PRIO_PROCESS, tid, nice);
        } catch (LastErrorException e) {
            throw new NativeCallException(
                    "setpriority", e.getErrorCode(), "PRIO_PROCESS, tid=" + tid + ", nice=" + nice);
        }
    }
}
