/**
 * pcap: reading and writing capture files (classic pcap and pcapng) over bytes.
 */
export * from './format.js';
export * from './read.js';
export * from './write.js';
