// Preloaded into a CLI child (NODE_OPTIONS=--import=…) to give it a clock that is off by
// COFFRE_TEST_CLOCK_OFFSET_MS: what a server without NTP looks like to Coffre and to the
// S3 server it signs requests for. Nothing in Coffre knows about it.
const offset = Number(process.env.COFFRE_TEST_CLOCK_OFFSET_MS ?? 0);
const RealDate = Date;

class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offset;
  }
}

globalThis.Date = SkewedDate;
