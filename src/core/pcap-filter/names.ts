/**
 * Names pcap-filter expressions may use instead of numbers: protocols, ethertypes, the
 * constants of tcp/icmp byte tests, and a small table of well-known services (the ones
 * Debian's /etc/services lists, with the transport each is defined for).
 */

/** IP_PROTOS maps IP protocol names to numbers (`ip proto \tcp`). */
export const IP_PROTOS: Record<string, number> = {
  icmp: 1, igmp: 2, ipip: 4, tcp: 6, egp: 8, igrp: 9, udp: 17, ipv6: 41, rsvp: 46, gre: 47, esp: 50, ah: 51,
  icmp6: 58, ospf: 89, pim: 103, vrrp: 112, l2tp: 115, sctp: 132,
};

/** ETHER_PROTOS maps ethertype names to numbers (`ether proto \arp`). */
export const ETHER_PROTOS: Record<string, number> = {
  ip: 0x0800, ip6: 0x86dd, arp: 0x0806, rarp: 0x8035, atalk: 0x809b, aarp: 0x80f3, decnet: 0x6003,
  lat: 0x6004, sca: 0x6007, moprc: 0x6002, mopdl: 0x6001, loopback: 0x9000,
};

/** ARITH_NAMES are constants usable in arithmetic (tcp[tcpflags] & tcp-syn). */
export const ARITH_NAMES: Record<string, number> = {
  icmptype: 0, icmpcode: 1, 'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-sourcequench': 4, 'icmp-redirect': 5,
  'icmp-echo': 8, 'icmp-routeradvert': 9, 'icmp-routersolicit': 10, 'icmp-timxceed': 11, 'icmp-paramprob': 12,
  'icmp-tstamp': 13, 'icmp-tstampreply': 14, 'icmp-ireq': 15, 'icmp-ireqreply': 16, 'icmp-maskreq': 17,
  'icmp-maskreply': 18,
  icmp6type: 0, icmp6code: 1, 'icmp6-destinationunreach': 1, 'icmp6-packettoobig': 2, 'icmp6-timeexceeded': 3,
  'icmp6-parameterproblem': 4, 'icmp6-echo': 128, 'icmp6-echoreply': 129, 'icmp6-multicastlistenerquery': 130,
  'icmp6-multicastlistenerreportv1': 131, 'icmp6-multicastlistenerdone': 132, 'icmp6-routersolicit': 133,
  'icmp6-routeradvert': 134, 'icmp6-neighborsolicit': 135, 'icmp6-neighboradvert': 136, 'icmp6-redirect': 137,
  tcpflags: 13, 'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08, 'tcp-ack': 0x10,
  'tcp-urg': 0x20, 'tcp-ece': 0x40, 'tcp-cwr': 0x80,
};

/** Transport a service name is defined for. */
export type ServiceProto = 'tcp' | 'udp' | 'both';

/** SERVICES maps well-known service names to [port, transport]. */
export const SERVICES: Record<string, [number, ServiceProto]> = {
  'ftp-data': [20, 'tcp'], ftp: [21, 'tcp'], ssh: [22, 'tcp'], telnet: [23, 'tcp'], smtp: [25, 'tcp'],
  mail: [25, 'tcp'], domain: [53, 'both'], bootps: [67, 'udp'], bootpc: [68, 'udp'], tftp: [69, 'udp'],
  http: [80, 'tcp'], www: [80, 'tcp'], kerberos: [88, 'both'], pop3: [110, 'tcp'], ntp: [123, 'udp'],
  imap2: [143, 'tcp'], imap: [143, 'tcp'], snmp: [161, 'both'], 'snmp-trap': [162, 'both'], bgp: [179, 'tcp'],
  ldap: [389, 'both'], https: [443, 'both'], isakmp: [500, 'udp'], syslog: [514, 'udp'], submission: [587, 'tcp'],
  imaps: [993, 'tcp'], pop3s: [995, 'tcp'], openvpn: [1194, 'both'], nfs: [2049, 'both'], mysql: [3306, 'tcp'],
  sip: [5060, 'both'], mdns: [5353, 'udp'], postgresql: [5432, 'tcp'],
};
