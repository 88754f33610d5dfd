/* Shared definitions for the switch examples. XDP programs use struct xdp_md from linux/bpf.h;
 * VALE-BPF programs use the VALE-BPF context below (pointer-sized data fields on a 64-bit host). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct vale_bpf_md {
  unsigned long long data;
  unsigned long long data_end;
  unsigned int ingress_port;
  unsigned char ring_nr;
};

#define VALE_BPF_BROADCAST 254
#define VALE_BPF_DROP 255

/* Ports of the tsbpf switch get ifindex = port index + 1 unless configured otherwise. */
#define PORT_OF_IFINDEX(i) ((i) - 1)
#define IFINDEX_OF_PORT(p) ((p) + 1)
