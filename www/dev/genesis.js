// Bitcoin's genesis block header (80 bytes as hex), which the development pages hash and mine.

export const BITCOIN_GENESIS_HEADER =
  "0100000000000000000000000000000000000000000000000000000000000000" +
  "000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa" +
  "4b1e5e4a29ab5f49ffff001d1dac2b7c";
