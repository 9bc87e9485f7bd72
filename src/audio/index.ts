/** Public surface of the audio core: codecs, VAD, barge-in, outbound pacing, playback tracking, tones, WAV. */
export * from "./barge-in";
export * from "./mulaw";
export * from "./outbound";
export * from "./playback";
export * from "./signals";
export * from "./tones";
export * from "./vad";
export * from "./vad-config";
export * from "./wav";
export * from "./webrtc-vad";
