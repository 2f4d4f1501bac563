// Command usersim plays the users of the rooms bench: N participants, each in room "<prefix>-<i>", publishing a
// microphone track that speaks a pre-encoded Opus utterance, then 3 s of silence, again and again, and listening to
// the agent's track.
//
// Why Go and pre-encoded Opus: the bench measures how many rooms one agent process serves in real time, and its users
// share the machine. rtc-node users cost ~30 ms of CPU per room-second, most of it libwebrtc encoding Opus (speech
// and silence alike) and decoding the agent's track; here the packets are encoded once and only sent, and the
// agent's packets are only read (a reply is told from DTX silence by packet sizes and spacing), so a user costs a few
// ms per room-second. The utterance is test/fixtures/utterance-a-16k.wav encoded with opus-tools 0.2 (libopus 1.3.1):
// opusenc --bitrate 32 --framesize 20 --comp 10 utterance-a-16k.wav utterance-a-16k.opus
//
// Silence is sent as a browser with DTX sends it (livekit-client publishes microphones with DTX): one 3-byte Opus
// silence frame every 400 ms, RTP timestamps following the wall clock across the gaps.
//
// Stdout: "ready" once every user has joined and published; "heard <i>" for each reply user i hears (the first sound
// after 300 ms without one); "attr <i> <key> <value>" for each attribute an agent in room i has or sets. SIGTERM or
// SIGINT: leave the rooms and exit.
//
//	usersim <prefix> <count> <utterance.opus>   (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET from the environment;
//	                                             USERSIM_AGENT_NAME: the agent each room's token dispatches)
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

const (
	frameDuration = 20 * time.Millisecond
	// The pause between utterances (as the rtc-node users of bench/lib/roomUsers.ts).
	pause = 3 * time.Second
	// DTX: a silence frame this often while the user is quiet.
	dtxInterval = 400 * time.Millisecond
	// Opus DTX frames (no sound) are 1-2 bytes; speech and tones 60-150 bytes per 20 ms at the agent's bitrate.
	dtxBytes = 2
	// Packets in a row, 20 ms apart and larger than DTX frames, that make a sound (a DTX comfort-noise update comes
	// alone, or with one neighbour at the stream's start).
	loudRun = 3
	// 20 ms at Opus's 48 kHz RTP clock.
	samplesPerFrame = 960
	// A reply starts at a sound after this long without one.
	replyGap = 300 * time.Millisecond
)

// The Opus silence frame: TOC 0xF8 (CELT fullband, 20 ms, mono, one frame) and a frame that decodes to silence.
var silenceFrame = []byte{0xF8, 0xFF, 0xFE}

var out sync.Mutex

func say(format string, args ...any) {
	out.Lock()
	defer out.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "usersim: "+format+"\n", args...)
	os.Exit(1)
}

type user struct {
	i     int
	room  *lksdk.Room
	track *lksdk.LocalTrack
}

// listen reads the agent's audio packets and reports each reply it hears. A quiet DTX stream sends, every 400 ms, a
// comfort-noise update (~55 bytes) and a 1-byte frame; sound is a run of packets 20 ms apart, none of them that small.
func (u *user) listen(track *webrtc.TrackRemote) {
	var lastLoud time.Time
	var prevTS uint32
	run := 0
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		if len(pkt.Payload) <= dtxBytes || (run > 0 && pkt.Timestamp-prevTS != samplesPerFrame) {
			run = 0
		}
		if len(pkt.Payload) > dtxBytes {
			run++
		}
		prevTS = pkt.Timestamp
		if run < loudRun {
			continue
		}
		now := time.Now()
		if now.Sub(lastLoud) > replyGap {
			say("heard %d", u.i)
		}
		lastLoud = now
	}
}

func (u *user) write(data []byte, at time.Time) {
	// The sample's wall-clock time sets its RTP timestamp, so a DTX gap keeps the stream's clock.
	_ = u.track.WriteSample(media.Sample{Data: data, Duration: frameDuration, Timestamp: at}, nil)
}

// speak sends the utterance at real-time pace, then DTX silence for the pause, until stop is closed.
func (u *user) speak(packets [][]byte, offset time.Duration, stop <-chan struct{}) {
	select {
	case <-time.After(offset):
	case <-stop:
		return
	}
	tick := time.NewTicker(frameDuration)
	defer tick.Stop()
	for {
		for _, p := range packets {
			select {
			case at := <-tick.C:
				u.write(p, at)
			case <-stop:
				return
			}
		}
		quietUntil := time.Now().Add(pause)
		var lastDtx time.Time
		for time.Now().Before(quietUntil) {
			select {
			case at := <-tick.C:
				if at.Sub(lastDtx) >= dtxInterval {
					u.write(silenceFrame, at)
					lastDtx = at
				}
			case <-stop:
				return
			}
		}
	}
}

// token lets user i join room as "user-<i>"; with an agent name, the room's configuration dispatches that agent to
// it when the room is created (the explicit dispatch a LiveKit worker with an agentName waits for).
func token(key, secret, room string, i int, agentName string) (string, error) {
	t := auth.NewAccessToken(key, secret).SetIdentity(fmt.Sprintf("user-%d", i)).SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room})
	if agentName != "" {
		t.SetRoomConfig(&livekit.RoomConfiguration{Agents: []*livekit.RoomAgentDispatch{{AgentName: agentName}}})
	}
	return t.ToJWT()
}

func join(url, key, secret, room string, i int, agentName string) (*user, error) {
	u := &user{i: i}
	cb := lksdk.NewRoomCallback()
	cb.ParticipantCallback.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		if track.Kind() == webrtc.RTPCodecTypeAudio {
			go u.listen(track)
		}
	}
	// The agent's attributes (lk.agent.state, and whatever a bench agent reports), for the parent to follow.
	cb.OnParticipantConnected = func(p *lksdk.RemoteParticipant) {
		if p.Kind() == lksdk.ParticipantAgent {
			for k, v := range p.Attributes() {
				say("attr %d %s %s", i, k, v)
			}
		}
	}
	cb.ParticipantCallback.OnAttributesChanged = func(changed map[string]string, p lksdk.Participant) {
		if p.Kind() == lksdk.ParticipantAgent {
			for k, v := range changed {
				say("attr %d %s %s", i, k, v)
			}
		}
	}
	jwt, err := token(key, secret, room, i, agentName)
	if err != nil {
		return nil, err
	}
	r, err := lksdk.ConnectToRoomWithToken(url, jwt, cb)
	if err != nil {
		return nil, fmt.Errorf("joining %s: %w", room, err)
	}
	u.room = r
	t, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		return nil, err
	}
	if _, err := r.LocalParticipant.PublishTrack(t, &lksdk.TrackPublicationOptions{Name: "mic", Source: livekit.TrackSource_MICROPHONE}); err != nil {
		return nil, fmt.Errorf("publishing in %s: %w", room, err)
	}
	u.track = t
	return u, nil
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: usersim <prefix> <count> <utterance.opus>")
	}
	prefix := os.Args[1]
	count, err := strconv.Atoi(os.Args[2])
	if err != nil || count < 1 {
		fail("count must be a positive integer, not %q", os.Args[2])
	}
	packets, err := readOggOpus(os.Args[3])
	if err != nil {
		fail("%v", err)
	}
	url, key, secret := os.Getenv("LIVEKIT_URL"), os.Getenv("LIVEKIT_API_KEY"), os.Getenv("LIVEKIT_API_SECRET")
	if url == "" || key == "" || secret == "" {
		fail("LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set")
	}
	protoLogger.InitFromConfig(&protoLogger.Config{Level: "error"}, "usersim")
	lksdk.SetLogger(protoLogger.GetLogger())

	users := make([]*user, count)
	for i := range users {
		if users[i], err = join(url, key, secret, fmt.Sprintf("%s-%d", prefix, i), i, os.Getenv("USERSIM_AGENT_NAME")); err != nil {
			fail("%v", err)
		}
	}
	say("ready")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		// Staggered, so the rooms do not all speak at once.
		go func() {
			defer wg.Done()
			u.speak(packets, time.Duration(i)*4900*time.Millisecond/time.Duration(count), stop)
		}()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	close(stop)
	wg.Wait()
	for _, u := range users {
		u.room.Disconnect()
	}
}
