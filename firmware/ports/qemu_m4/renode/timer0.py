# timer0.py - CMSDK APB timer (free-running down-counter, 25 MHz) for Renode's
# Python.PythonPeripheral. UNTESTED (no Renode here). Registers the firmware
# uses: CTRL +0x0, VALUE +0x4, RELOAD +0x8 (tm_port_qemu.c). VALUE is computed
# from the machine's elapsed virtual time; if that API is missing in your
# Renode version, it falls back to counting 1 tick per read.
TICK_HZ = 25000000

def _virtual_ticks():
    try:
        t = self.Machine.LocalTimeSource.ElapsedVirtualTime.TimeElapsed.TotalSeconds
        return int(t * TICK_HZ)
    except Exception:
        state["fallback"] = state.get("fallback", 0) + 1
        return state["fallback"]

if request.isInit:
    state = {"ctrl": 0, "reload": 0xFFFFFFFF, "start": 0, "base": 0xFFFFFFFF}
elif request.isRead:
    off = request.offset
    if off == 0x0:
        request.value = state["ctrl"]
    elif off == 0x4:
        if state["ctrl"] & 1:
            elapsed = _virtual_ticks() - state["start"]
            request.value = (state["base"] - elapsed) & 0xFFFFFFFF
        else:
            request.value = state["base"]
    elif off == 0x8:
        request.value = state["reload"]
    else:
        request.value = 0
elif request.isWrite:
    off = request.offset
    if off == 0x0:
        state["ctrl"] = request.value
        state["start"] = _virtual_ticks()
    elif off == 0x4:
        state["base"] = request.value
        state["start"] = _virtual_ticks()
    elif off == 0x8:
        state["reload"] = request.value
