package main

import "github.com/infrakit-manager/manager/internal/field"

// The libraries' validation errors name Options fields ("RenewInterval
// must be > 0"); the tables below say which flag sets each field, so that
// the user reads the flag to change ("--poll-interval must be > 0").

// managerFlags are controller.Options' fields set from flags.
func managerFlags() map[string]string {
	return map[string]string{
		"Name": "--name", "PluginDir": "--plugin-dir", "ProxyFor": "--proxy-for-group",
		"LeaseDuration": "--lease-duration", "RenewInterval": "--poll-interval",
		"CheckTimeout": "--check-timeout", "StoreTimeout": "--store-timeout",
		"CallTimeout": "--call-timeout", "ResyncInterval": "--resync-interval",
		"Workers": "--workers", "MaxBackoff": "--max-backoff",
		"Handover": "--handover", "HandoverMargin": "--handover-margin",
		"Advertise": "--advertise", "TCP": "--listen",
	}
}

// osFlags are file.StoreOptions' and file.LeadershipOptions' fields set
// from os mode's flags.
func osFlags() map[string]string {
	return map[string]string{
		"Dir": "--store-dir", "Create": "--store-create", "MaxBytes": "--max-config-bytes",
		"Path": "--leader-file", "Name": "--name",
	}
}

// swarmFlags are swarm.ClientOptions' and swarm.StoreOptions' fields set
// from swarm mode's flags.
func swarmFlags() map[string]string {
	return map[string]string{
		"Host": "--host", "TLSCACert": "--tlscacert", "TLSCert": "--tlscert", "TLSKey": "--tlskey",
		"CallTimeout": "--engine-timeout", "MaxLabelBytes": "--max-label-bytes",
	}
}

// etcdFlagNames are etcd.ClientOptions', etcd.StoreOptions' and
// etcd.LeadershipOptions' fields set from etcd mode's flags.
func etcdFlagNames() map[string]string {
	return map[string]string{
		"Endpoints": "--endpoints", "CACert": "--cacert", "Cert": "--cert", "Key": "--key",
		"DialTimeout": "--dial-timeout", "Prefix": "--prefix", "LeaseDuration": "--lease-duration",
		"CallTimeout": "--etcd-timeout", "Name": "--candidate", "MaxTxnOps": "--max-txn-ops",
	}
}

// tcpFlags are plugin.TCPOptions' fields set from --listen and its TLS
// and --insecure flags.
func tcpFlags() map[string]string {
	return map[string]string{"Addr": "--listen", "TLS": "TLS (--tls-cert, --tls-key, --tls-ca)", "Insecure": "--insecure"}
}

// flagError is err with the fields that flags set named by their flags.
func flagError(err error, flags map[string]string) error {
	return field.Rename(err, flags)
}
