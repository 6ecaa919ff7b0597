// The package's entry: chat-client.js (the same file the Hub serves to browsers, copied in when packed) bound to
// @microsoft/signalr and its MessagePack protocol imported as modules instead of the page's globals.
import * as signalR from "@microsoft/signalr";
import * as msgpack from "@microsoft/signalr-protocol-msgpack";
import { useSignalR } from "./chat-client.js";

useSignalR(signalR, msgpack);

export { ChatClient, getDevToken } from "./chat-client.js";
