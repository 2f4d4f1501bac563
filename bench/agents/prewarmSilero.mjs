// The built package's view of an idle job process: plain JavaScript (no tsx), importing dist/, Silero prewarmed.
import { defineAgent } from '../../dist/src/worker/index.js';
import { SileroVAD } from '../../dist/src/plugins/silero/index.js';

export default defineAgent({
  prewarm: async (proc) => {
    proc.userdata.vad = await SileroVAD.load();
  },
  entry: async () => {},
});
