/** Every statechart of the project, by diagram name. `npm run visualize` draws each one. */
import type { AnyStateMachine } from 'xstate';
import { activityMachine } from './activity.ts';
import { audioOutputMachine } from './audioOutput.ts';
import { backgroundAudioMachine } from './backgroundAudio.ts';
import { participantLinkMachine } from './participantLink.ts';
import { roomAudioOutputMachine } from './roomAudioOutput.ts';
import { sessionMachine } from './session.ts';
import { speechMachine } from './speech.ts';
import { turnTakingModel } from './turnTakingModel.ts';
import { userTurnMachine } from './userTurn.ts';
import { inferenceHostMachine } from './inferenceHost.ts';
import { jobMachine } from './job.ts';
import { workerConnectionMachine } from './workerConnection.ts';

export { activityMachine, audioOutputMachine, backgroundAudioMachine, inferenceHostMachine, jobMachine, participantLinkMachine, roomAudioOutputMachine, sessionMachine, speechMachine, turnTakingModel, userTurnMachine, workerConnectionMachine };

export const machines: Record<string, AnyStateMachine> = {
  session: sessionMachine,
  activity: activityMachine,
  userTurn: userTurnMachine,
  speech: speechMachine,
  audioOutput: audioOutputMachine,
  participantLink: participantLinkMachine,
  roomAudioOutput: roomAudioOutputMachine,
  turnTakingModel,
  workerConnection: workerConnectionMachine,
  job: jobMachine,
  inferenceHost: inferenceHostMachine,
  backgroundAudio: backgroundAudioMachine,
};
