// The package's entry: chat-client.js (the same file the Hub serves to browsers, copied in when packed) bound to
// @microsoft/signalr imported as a module instead of the page's global.
import * as signalR from "@microsoft/signalr";
import { useSignalR } from "./chat-client.js";

useSignalR(signalR);

export { ChatClient, getDevToken } from "./chat-client.js";
