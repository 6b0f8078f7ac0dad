export { createPieceServer, type PieceServer, type PieceServerOptions } from './piece-server.ts';
export { bufferPiece, type OpenPiece, type PieceHoldings, type PieceSource } from './piece-source.ts';
export { MAX_HOLDINGS_WAIT_MS, parsePiecePath, PIECE_COUNT_HEADER, type PiecePath } from './piece-path.ts';
export { fetchPiece, type FetchPieceOptions, type PieceAt, type PieceOutcome } from './fetch-piece.ts';
export { fetchHoldings, hasPiece, holdingsPath, type FetchHoldingsOptions, type Holdings, type HoldingsOutcome } from './fetch-holdings.ts';
