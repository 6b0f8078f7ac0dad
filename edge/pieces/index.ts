export { createPieceServer, type PieceServer, type PieceServerOptions } from './piece-server.ts';
export { bufferPiece, type OpenPiece, type PieceHoldings, type PieceSource } from './piece-source.ts';
export { parsePiecePath, PIECE_COUNT_HEADER, WATCH_HEARTBEAT_MS, WATCH_MARK, type PiecePath } from './piece-path.ts';
export { fetchPiece, type FetchPieceOptions, type PieceAt, type PieceOutcome } from './fetch-piece.ts';
export { hasPiece, holdingsPath, watchHoldings, type Holdings, type WatchHoldingsOptions, type WatchOutcome } from './watch-holdings.ts';
