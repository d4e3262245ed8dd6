import collectd

def read():
    collectd.Values(plugin='pyplug', type='gauge', type_instance='nan').dispatch(values=[float('nan')])
    collectd.Values(plugin='pyplug', plugin_instance='pi', type='if_octets').dispatch(values=[123, 456])
    collectd.Values(plugin='pyplug', type='load', meta={'k': 'v', 'n': 5, 'u': collectd.Unsigned(7), 'f': 1.5, 'b': True, 's': collectd.Signed(-3)}).dispatch(values=[0.5, 1e300, -2.25])
    collectd.Values(plugin='pyplug', type='counter').dispatch(values=[18446744073709551615])
    collectd.Values(plugin='pyplug', type='absolute').dispatch(values=[42])
    collectd.Values(plugin='pyplug', type='derive', type_instance='neg "quote"\\').dispatch(values=[-9223372036854775808])
    collectd.Values(plugin='pyplug', type='gauge', type_instance='inf').dispatch(values=[float('inf')])
    collectd.Values(plugin='pyplug', type='gauge', type_instance='unicodé ☃').dispatch(values=[1e-300])
    collectd.Notification(plugin='pyplug', plugin_instance='pi', type='temperature', type_instance='ti', severity=collectd.NOTIF_WARNING, message='hello "world"\n').dispatch()
    collectd.Notification(plugin='pyplug', plugin_instance='x', type='gauge', severity=collectd.NOTIF_FAILURE, message='fail', meta={'a': 1, 's': 'str'}).dispatch()
    collectd.Notification(plugin='pyplug', type='gauge', severity=collectd.NOTIF_OKAY, message='ok').dispatch()
    collectd.Notification(plugin='pyplug', type='gauge', severity=3, message='odd severity').dispatch()

collectd.register_read(read, 1)
