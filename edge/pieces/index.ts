export { createPieceServer, type PieceServer, type PieceServerOptions } from './piece-server.ts';
export { bufferPiece, type OpenPiece, type PieceSource } from './piece-source.ts';
export { parsePiecePath, type PiecePath } from './piece-path.ts';
export { fetchPiece, type FetchPieceOptions, type PieceAt, type PieceOutcome } from './fetch-piece.ts';
