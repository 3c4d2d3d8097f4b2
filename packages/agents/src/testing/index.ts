export * from "./chat-completions-server.js";
