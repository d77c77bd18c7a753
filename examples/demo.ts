// The demo: for now, the wire protocol at work. It grows as the server, client and recipes land.
import { encodeFrame, FrameSplitter, part, records as R, decodeRequest, OpCode } from '../src/index.js';

const request = encodeFrame(
  part(R.RequestHeader, { xid: 1, type: OpCode.create }),
  part(R.CreateRequest, {
    path: '/demo/lock-',
    data: Buffer.from('hello'),
    acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
    flags: 3,
  }),
);
console.log(`a create request on the wire: ${request.length} bytes`);
const [frame] = new FrameSplitter().push(request);
const decoded = decodeRequest(frame);
console.log(`decoded: ${R.RequestHeader.describe(decoded.header)} ${decoded.spec?.request?.describe(decoded.body)}`);
