/** The outcome of an election as far as the votes cast so far decide it. */
export enum VoteResult {
  /** Neither a quorum of grants nor a quorum of rejections has been reached yet. */
  VotePending = 1,
  /** A quorum rejected: the election cannot be won with these voters. */
  VoteLost,
  /** A quorum granted. */
  VoteWon,
}
