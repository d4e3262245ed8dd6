"""A collectd Python plugin that dispatches a known sequence.

Each read k (0, 1, ...) dispatches a gauge, a derive pair, a counter, an
absolute and a notification whose type instances carry k, with the time
1700000000 + k, until Reads reads are done; then it writes DoneFile.
"""

import collectd

STATE = {"next": 0, "reads": 3, "done": ""}


def config(conf):
    for child in conf.children:
        if child.key == "Reads":
            STATE["reads"] = int(child.values[0])
        elif child.key == "DoneFile":
            STATE["done"] = child.values[0]


def read():
    k = STATE["next"]
    if k >= STATE["reads"]:
        return
    STATE["next"] = k + 1
    t = 1700000000.0 + k
    common = {"plugin": "ckseq", "host": "cktest", "time": t, "interval": 1.0}
    collectd.Values(type="gauge", plugin_instance="pi", type_instance="g%d" % k,
                    **common).dispatch(values=[k + 0.5])
    collectd.Values(type="if_octets", type_instance="io%d" % k,
                    **common).dispatch(values=[k, 2 * k])
    collectd.Values(type="counter", type_instance="c%d" % k,
                    **common).dispatch(values=[2 ** 64 - 1 - k])
    collectd.Values(type="absolute", type_instance="a%d" % k,
                    **common).dispatch(values=[k])
    collectd.Notification(plugin="ckseq", host="cktest", time=t,
                          type="gauge", plugin_instance="npi",
                          type_instance="n%d" % k,
                          severity=collectd.NOTIF_WARNING,
                          message="note %d" % k).dispatch()
    if STATE["next"] == STATE["reads"] and STATE["done"]:
        with open(STATE["done"], "w") as f:
            f.write("done\n")


collectd.register_config(config)
collectd.register_read(read)
