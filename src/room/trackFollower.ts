import {
  RoomEvent,
  TrackKind,
  type RemoteParticipant,
  type RemoteTrack,
  type RemoteTrackPublication,
  type Room,
  type TrackSource,
} from '@livekit/rtc-node';

/**
 * Follows one participant's subscribed track of the given kind and sources (in preference order): opens the track
 * when it is subscribed (or already is), ignores a second subscription to the same publication, closes it when it
 * is unpublished or unsubscribed and moves to another matching publication if there is one.
 * Returns a stop function.
 */
export function followTrack(
  room: Room,
  identity: string,
  kind: TrackKind,
  sources: TrackSource[],
  open: (track: RemoteTrack, publication: RemoteTrackPublication) => () => void,
): () => void {
  let current: { sid: string; rank: number; close: () => void } | null = null;
  const matches = (pub: RemoteTrackPublication) => pub.kind === kind && pub.source !== undefined && sources.includes(pub.source);
  const attach = (track: RemoteTrack, pub: RemoteTrackPublication) => {
    if (!pub.sid || current?.sid === pub.sid) return;
    current?.close();
    current = { sid: pub.sid, rank: sources.indexOf(pub.source!), close: open(track, pub) };
  };
  const pickExisting = () => {
    const p = room.remoteParticipants.get(identity);
    if (!p) return;
    const pubs = [...p.trackPublications.values()].filter((pub) => matches(pub) && pub.track);
    pubs.sort((a, b) => sources.indexOf(a.source!) - sources.indexOf(b.source!));
    const pub = pubs[0];
    if (pub?.track) attach(pub.track as RemoteTrack, pub);
  };
  const onSubscribed = (track: RemoteTrack, pub: RemoteTrackPublication, p: RemoteParticipant) => {
    if (p.identity !== identity || !matches(pub)) return;
    // A more preferred source (camera over screen share) already open stays.
    if (current && sources.indexOf(pub.source!) > current.rank) return;
    attach(track, pub);
  };
  const onGone = (pub: RemoteTrackPublication, p: RemoteParticipant) => {
    const c = current;
    if (p.identity !== identity || !c || c.sid !== pub.sid) return;
    c.close();
    current = null;
    pickExisting();
  };
  const onUnsubscribed = (_t: RemoteTrack, pub: RemoteTrackPublication, p: RemoteParticipant) => onGone(pub, p);
  room.on(RoomEvent.TrackSubscribed, onSubscribed);
  room.on(RoomEvent.TrackUnpublished, onGone);
  room.on(RoomEvent.TrackUnsubscribed, onUnsubscribed);
  pickExisting();
  return () => {
    room.off(RoomEvent.TrackSubscribed, onSubscribed);
    room.off(RoomEvent.TrackUnpublished, onGone);
    room.off(RoomEvent.TrackUnsubscribed, onUnsubscribed);
    current?.close();
    current = null;
  };
}

export { TrackKind };
