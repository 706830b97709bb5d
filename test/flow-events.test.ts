import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FLOW_EVENT_NAMES, MAX_FLOW_EVENTS_PER_REQUEST, parseFlowEvents, resolveOutboundName, type FlowEventsParseResult } from '../src/domain/flow-events.ts';

const NOW = new Date('2024-05-01T12:00:00.000Z');

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { event: 'Flow Started', userId: 'u1', properties: { flow_id: 'f1' }, ...overrides };
}

function errorsOf(result: FlowEventsParseResult): Array<{ path: string; message: string }> {
  if (result.ok) throw new assert.Assertion({ message: 'expected the body to be refused', operator: 'errors', expects: 'errors', actual: result.events });
  return result.errors;
}

function paths(result: FlowEventsParseResult): string[] {
  return errorsOf(result).map((error) => error.path);
}

// ---
const valid = suite('parseFlowEvents: valid bodies');

valid('accepts one event and fills the timestamp with now', () => {
  const result = parseFlowEvents(event(), { now: NOW });
  assert.equal(result, { ok: true, events: [{ event: 'Flow Started', userId: 'u1', properties: { flow_id: 'f1' }, timestamp: NOW.toISOString() }] });
});

valid('keeps the product messageId, anonymousId and timestamp', () => {
  const result = parseFlowEvents([event({ messageId: 'm-1', anonymousId: 'a-1', timestamp: '2024-04-30T08:00:00+02:00' })], { now: NOW });
  assert.ok(result.ok);
  assert.equal(result.events[0], {
    event: 'Flow Started',
    userId: 'u1',
    anonymousId: 'a-1',
    properties: { flow_id: 'f1' },
    messageId: 'm-1',
    timestamp: '2024-04-30T08:00:00+02:00',
  });
});

valid('accepts every catalog event with its required properties', () => {
  const body = FLOW_EVENT_NAMES.map((name) => event({ event: name, properties: { flow_id: 'f', step_id: 's', response_id: 'r' } }));
  const result = parseFlowEvents(body, { now: NOW });
  assert.ok(result.ok);
  assert.equal(result.events.map((e) => e.event), [...FLOW_EVENT_NAMES]);
});

valid('tolerates type "track" (a Segment track payload reused as is)', () => {
  assert.ok(parseFlowEvents(event({ type: 'track' }), { now: NOW }).ok);
});

valid.run();

// ---
const invalid = suite('parseFlowEvents: errors name the index and field');

invalid('unknown event in an array: path /2/event and the catalog listed', () => {
  const errors = errorsOf(parseFlowEvents([event(), event(), event({ event: 'Flow Exploded' })], { now: NOW }));
  assert.is(errors.length, 1);
  assert.is(errors[0]?.path, '/2/event');
  assert.match(errors[0]?.message ?? '', "unknown event 'Flow Exploded'; expected one of 'Flow Viewed'");
  assert.match(errors[0]?.message ?? '', "'Response Submitted'");
});

invalid('missing flow_id: /0/properties/flow_id', () => {
  assert.equal(paths(parseFlowEvents([event({ properties: {} })], { now: NOW })), ['/0/properties/flow_id']);
});

invalid('a single event gets paths without an index', () => {
  assert.equal(paths(parseFlowEvents(event({ properties: { flow_id: '' } }), { now: NOW })), ['/properties/flow_id']);
});

invalid('Flow Step Completed needs step_id, Response Submitted needs response_id', () => {
  const body = [event({ event: 'Flow Step Completed' }), event({ event: 'Response Submitted' }), event({ event: 'Flow Completed' })];
  assert.equal(paths(parseFlowEvents(body, { now: NOW })), ['/0/properties/step_id', '/1/properties/response_id']);
});

invalid('userId is required and non-empty', () => {
  const { userId: _omit, ...noUser } = event();
  assert.equal(paths(parseFlowEvents([noUser, event({ userId: '' }), event({ userId: 7 })], { now: NOW })), ['/0/userId', '/1/userId', '/2/userId']);
});

invalid('messageId over 100 characters, bad timestamp, properties not an object', () => {
  const errors = errorsOf(parseFlowEvents([event({ messageId: 'x'.repeat(101) }), event({ timestamp: 'yesterday' }), event({ properties: [] })], { now: NOW }));
  assert.equal(errors.map((e) => e.path), ['/0/messageId', '/1/timestamp', '/2/properties']);
  assert.match(errors[0]?.message ?? '', '100');
  assert.match(errors[1]?.message ?? '', 'date-time');
});

invalid('unknown top-level field is named', () => {
  const errors = errorsOf(parseFlowEvents(event({ userID: 'u1' }), { now: NOW }));
  assert.equal(errors.map((e) => e.path), ['/userID']);
  assert.match(errors[0]?.message ?? '', 'not allowed');
});

invalid('every invalid event is listed, valid neighbours do not hide them', () => {
  assert.equal(paths(parseFlowEvents([event(), 'nope', event({ event: 5 })], { now: NOW })), ['/1', '/2/event']);
});

invalid('empty array and more than 1000 events are refused', () => {
  assert.equal(paths(parseFlowEvents([], { now: NOW })), ['']);
  const tooMany = Array.from({ length: MAX_FLOW_EVENTS_PER_REQUEST + 1 }, () => event());
  assert.equal(paths(parseFlowEvents(tooMany, { now: NOW })), ['']);
  assert.ok(parseFlowEvents(tooMany.slice(1), { now: NOW }).ok);
});

invalid('an event over 30 KB is refused at the edge (Segment refuses > 32 KB)', () => {
  const errors = errorsOf(parseFlowEvents([event(), event({ properties: { flow_id: 'f', blob: 'x'.repeat(31 * 1024) } })], { now: NOW }));
  assert.equal(errors.map((e) => e.path), ['/1']);
  assert.match(errors[0]?.message ?? '', 'bytes');
});

invalid('a body that is not an object or array', () => {
  assert.equal(paths(parseFlowEvents(null, { now: NOW })), ['']);
  assert.equal(paths(parseFlowEvents('Flow Started', { now: NOW })), ['']);
});

invalid.run();

// ---
const outbound = suite('resolveOutboundName: rename and disable per environment');

outbound('no setting: sent under the catalog name', () => {
  assert.equal(resolveOutboundName('Flow Completed', {}), { disabled: false, sentAs: 'Flow Completed' });
});

outbound('rename', () => {
  assert.equal(resolveOutboundName('Flow Completed', { 'Flow Completed': { rename: 'Survey Finished' } }), { disabled: false, sentAs: 'Survey Finished' });
});

outbound('disabled wins over rename; other events unaffected', () => {
  const settings = { 'Flow Viewed': { disabled: true, rename: 'Seen' } };
  assert.equal(resolveOutboundName('Flow Viewed', settings), { disabled: true });
  assert.equal(resolveOutboundName('Flow Started', settings), { disabled: false, sentAs: 'Flow Started' });
});

outbound('disabled: false and an empty rename keep the catalog name', () => {
  assert.equal(resolveOutboundName('Flow Dismissed', { 'Flow Dismissed': { disabled: false, rename: '' } }), { disabled: false, sentAs: 'Flow Dismissed' });
});

outbound.run();
