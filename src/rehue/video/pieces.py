"""A video coloured into one file a piece at a time, so that an interrupted run keeps what it finished.

Each piece is a run of whole scenes, at least ``PIECE_FRAMES`` frames long but for the last, or, in a shot
twice that long, ``PIECE_FRAMES`` frames of it ending with the colouring's state there. It is encoded by an
encoder of its own (``VideoWriter.encoder``) into a file of packets in a hidden folder beside the output,
with a journal (``rehue.video.resume``). When the film is done the pieces' packets are muxed into the
output with its sound and subtitles, and the folder goes. The encoders are set up alike, so the pieces join
into one stream. A run stopped by Ctrl-C, a kill, a power cut, a damaged frame or a full disk leaves the
pieces it finished; the same command goes on from the first frame after them: a scene's first, which is
coloured from its own lightness alone (scene detection starts afresh there), or one in a shot, coloured on
from the state saved, so that the frames after it come out as an uninterrupted run colours them. Stopped
while the pieces are joined, it keeps them all, and the same command joins them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import zlib
from pathlib import Path

from rehue.data.images import staging_folder_for
from rehue.errors import RehueError, out_of_room
from rehue.signals import signals_held
from rehue.video.resume import (
    InterruptedVideo,
    Piece,
    add_piece,
    hold_staging,
    interrupted_runs,
    listed_pieces,
    release_staging,
    resumable_video,
    save_state,
    say_what_was_kept,
    what_differs,
    write_journal,
)

PIECE_FRAMES = 500  # about 20 s of film: a piece ends at the first scene start after so many frames
# or, in a shot twice as long, before a frame whose number is a multiple of it, with the colouring's state there
_RECORD = struct.Struct("<qqqBI")  # a packet's pts, dts, duration, key frame flag and size; its bytes follow
_NO_TIME = -(2**63)


def encoder_settings(codec: str, crf: int, preset: str) -> dict:
    """The encoder's settings, for a journal of pieces: pieces encoded otherwise, or by another FFmpeg, may not
    join into one stream."""
    import av

    return {"codec": codec, "crf": None if crf is None else int(crf), "preset": preset,  # a numpy integer: a number
            "ffmpeg": f"PyAV {av.__version__} {av.library_versions}"}


def interrupted_video(target: Path, settings: dict, stats: list[list], log
                      ) -> tuple[InterruptedVideo | None, list[Path]]:
    """The hidden folder that an interrupted run of the same video and settings left for ``target``, to go on
    from, and those that runs of other settings or films left (with a note naming what differs), which stay
    until this run is done: a run started with a wrong setting and stopped at once has thrown nothing away."""
    found, others = None, []
    for staging in interrupted_runs(target):
        run = resumable_video(staging, settings, stats) if found is None else None
        if run is not None and run.done:
            log(f"{target}: joining the {run.start:,} frames an earlier run coloured, which it stopped before it "
                "had joined")
            found = run
        elif run is not None and run.pieces:
            log(f"{target}: going on from frame {run.start + 1:,}{' of the part' if settings.get('start') else ''} "
                f"(at {run.time:.2f} s), where an earlier run stopped ({run.start:,} frames kept)")
            found = run
            if run.damaged:  # probe 47: dropped without a word
                log(f"note: {target}: the {run.damaged:,} frames that run coloured after those are coloured again: "
                    "their piece's file, or the colouring's state saved with it, changed since it was written")
        elif run is not None or staging == staging_folder_for(target):  # that name is this run's to take
            shutil.rmtree(staging, ignore_errors=True)
            why = "held no whole piece of the film (it stopped in its first, or they were damaged)" if run else \
                f"was {what_differs(staging, settings, stats)}"
            log(f"note: {target}: removed an interrupted run's hidden folder ({staging.name}), which {why}")
        else:
            others.append(staging)
            log(f"note: {target}: an interrupted run's coloured pieces in {staging.name} were "
                f"{what_differs(staging, settings, stats)}; they are not used, and are removed once this run is done")
    return found, others


def check_video_output(target: Path, overwrite: bool, inputs: tuple[Path, ...] = ()) -> None:
    """``check_output_path``, whose refusal of an existing output names the coloured pieces that an
    interrupted run (one that lost a race for the name, say) keeps for it, which --overwrite goes on from."""
    from rehue.data.images import check_output_path

    kept = interrupted_runs(target) if target.exists() and not overwrite else []
    if kept:
        raise RehueError(f"output exists; pass --overwrite to replace it, going on from the coloured pieces an "
                         f"interrupted run kept for it in {kept[0]} where its settings were these (or remove them)",
                         target)
    check_output_path(target, overwrite, inputs)


def read_packets(path: Path):
    """The packets of a piece's file, as ``VideoWriter.write_encoded`` takes them."""
    with open(path, "rb") as file:
        while header := file.read(_RECORD.size):
            pts, dts, duration, keyframe, size = _RECORD.unpack(header)
            yield (file.read(size), None if pts == _NO_TIME else pts, None if dts == _NO_TIME else dts, duration,
                   bool(keyframe))


class PiecedVideo:
    """``colorize_video``'s sink for a video file: frames are encoded a piece at a time into a hidden folder
    beside ``writer``'s output, which a next run goes on from, and joined into it when all are done.

    ``journal`` is the run's settings and the video's ``frame_stats``; ``resume`` an interrupted run's
    folder to take over (``interrupted_video``), whose pieces come first. ``scene_starts`` is the colouring's
    list of the scenes found (``SceneColorizer.scene_starts``, counted from this run's first frame), which
    holds a scene's start before its first frame is written: a piece ends before one. ``states`` holds the
    colouring's state before frames in the middle of a shot (``SceneColorizer.states``, counted alike), where
    a piece ends in a shot twice ``PIECE_FRAMES`` long; the state is saved with the piece."""

    def __init__(self, writer, *, journal: tuple[dict, list], resume: InterruptedVideo | None,
                 scene_starts: list[int], log, states: dict[int, dict] | None = None):
        self.writer, self.log, self.scene_starts = writer, log, scene_starts
        self.states = states if states is not None else {}
        self.next_scene = 0  # the first of scene_starts not yet passed
        self.staging = staging_folder_for(writer.path)
        self.pieces: list[Piece] = list(resume.pieces) if resume is not None else []
        self.kept_before = resume.start if resume is not None else 0
        self.frames_written = self.in_piece = 0
        self.encoder = self.file = None
        self.crc = 0
        self.joining = False  # the pieces being joined into the output, the film all coloured
        self.done = False  # the output in place, its pieces being removed
        self.last_kept: Piece | None = None  # once closed: the last piece a next run goes on after
        self.origin = self.last_pts = None
        self._cleanup = hold_staging(self, self.staging, resume.staging if resume is not None else None,
                                     "cannot make the folder of its pieces", self.staging, writer.path)
        if resume is not None:
            self.origin = writer.start_at(origin=resume.pieces[0].origin)
            self.last_pts = resume.pieces[-1].last_pts
        else:
            self._journal_write(lambda: write_journal(self.staging, *journal, []))
        self.left_out, self.deep = writer.left_out, writer.deep
        # what an interrupt's note names, and how it names the frame a next run goes on from
        self.subject, self.frame_label = writer.path, lambda index: f"{index + 1:,}"

    def _journal_write(self, step) -> None:
        try:
            step()
        except OSError as exc:
            raise RehueError(f"cannot write the video ({exc.strerror or exc})", self.writer.path) from None

    def write(self, rgb, pts: int | None = None, *, time_s: float | None = None) -> None:
        """Encode one frame (source time ``pts``, ``time_s`` seconds: None where it cannot be sought); a piece
        ends before a scene's first frame once it is ``PIECE_FRAMES`` long."""
        starts = self.scene_starts
        while self.next_scene < len(starts) and starts[self.next_scene] < self.frames_written:
            self.next_scene += 1
        scene_start = self.next_scene < len(starts) and starts[self.next_scene] == self.frames_written
        state = self.states.pop(self.frames_written, None)
        index = self.kept_before + self.frames_written
        if self.origin is None:
            self.origin = self.writer.start_at(pts)
        pts = self.writer.timestamp(pts, index, self.last_pts)
        if self.encoder is not None and scene_start and self.in_piece >= PIECE_FRAMES:
            self._end_piece(time_s)
        elif self.encoder is not None and state is not None and self.in_piece >= 2 * PIECE_FRAMES:
            self._end_piece(time_s, state=state)
        if self.encoder is None:
            self._begin_piece()
        self._store(self.encoder.encode(self.writer.frame(rgb, pts)))
        self.last_pts = pts
        self.in_piece += 1
        self.frames_written += 1

    def _begin_piece(self) -> None:
        self.encoder = self.writer.encoder()
        self.piece_file = f"piece-{len(self.pieces) + 1:06d}.packets"
        self._journal_write(lambda: setattr(self, "file", open(self.staging / self.piece_file, "wb")))  # noqa: SIM115
        self.in_piece = self.crc = 0

    def _store(self, packets) -> None:
        try:
            for packet in packets:
                data = bytes(packet)
                record = _RECORD.pack(_NO_TIME if packet.pts is None else packet.pts,
                                      _NO_TIME if packet.dts is None else packet.dts, packet.duration or 0,
                                      packet.is_keyframe, len(data))
                self.file.write(record)
                self.file.write(data)
                self.crc = zlib.crc32(data, zlib.crc32(record, self.crc))
        except OSError as exc:
            raise RehueError(f"cannot write the video ({exc.strerror or exc})", self.writer.path) from None

    def _end_piece(self, next_time: float | None, last: bool = False, state: dict | None = None) -> None:
        """Finish the piece: its encoder's last packets, its file on the disk whole, and its line in the list
        of pieces (``next_time``: the next frame's, which the next run seeks to; None at the film's end, which
        ``last`` marks, and after a joint of recordings, where no time in the file can be sought). ``state``:
        the colouring's, to go on from in the middle of a shot, saved beside it."""
        self._store(self.encoder.encode(None))
        self.encoder = None

        def finish():
            self.file.flush()
            os.fsync(self.file.fileno())
            size = self.file.tell()
            self.file.close()
            piece = Piece(self.piece_file, self.in_piece, size, self.crc, self.origin, self.last_pts, next_time, last)
            if state is not None:
                piece.state = self.piece_file.replace(".packets", ".state.npz")
                piece.state_size, piece.state_crc32 = save_state(self.staging / piece.state, state)
            add_piece(self.staging, piece)
            self.pieces.append(piece)

        self._journal_write(finish)

    def finish(self) -> None:
        """The last piece finished, and every piece's packets muxed into the output, which then moves into place;
        the hidden folder goes."""
        if self.encoder is not None:
            self._end_piece(None, last=True)
        if not self.pieces:
            raise RehueError("no video frames to write", self.writer.path)
        self.joining = True
        for piece in self.pieces:
            for packet in read_packets(self.staging / piece.file):
                self.writer.write_encoded(*packet)
        # the output put in place and its pieces removed as one step, an interrupt held till then (probe 145: one
        # landing as they were removed, or just after the output moved into place (probe 146), said they were
        # kept for the same command, which then found the output there)
        with signals_held():
            self.writer.close()
            self.done = True
            self.close()

    def close(self, keep: bool = False) -> int:
        """Stop; keep the finished pieces that a next run can go on from where ``keep`` asks, else remove the
        hidden folder. Returns the number of frames kept."""
        if self.file is not None:
            with contextlib.suppress(OSError):  # a full disk fails the flush of the piece being written, thrown away
                self.file.close()
            if not self._listed(self.piece_file):  # and its files (probe 180: kept, the disk full still when the
                for name in (self.piece_file, self.piece_file.replace(".packets", ".state.npz")):  # user made room)
                    with contextlib.suppress(OSError):
                        (self.staging / name).unlink(missing_ok=True)
        self.writer.abort()
        kept, self.last_kept = 0, None
        for piece in self.pieces if keep else ():  # those a next run can seek past, from the first
            if piece.next_time is None and not piece.last:
                break
            kept += piece.frames
            self.last_kept = piece
        if not kept:
            shutil.rmtree(self.staging, ignore_errors=True)
        release_staging(self.staging, self._cleanup)
        return kept

    def _listed(self, name: str) -> bool:
        """Whether the piece of file ``name`` is in the list of pieces, here or on the disk: an interrupt can land
        between its line's writing and its place here (probe 181: a finished piece removed, coloured again)."""
        return name in {piece.file for piece in (*self.pieces, *listed_pieces(self.staging)[0])}

    def __enter__(self) -> PiecedVideo:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.finish()
            except BaseException as error:
                self.stopped(type(error), error)
                raise
            return
        self.stopped(exc_type, exc)

    def stopped(self, exc_type, exc) -> None:
        """A damaged frame, a full disk, Ctrl-C: hours of a film are not thrown away for one. The pieces finished
        are kept, and said: in a note on an interrupt, in the error line of an error (raised in its place)."""
        if self.done:
            return
        kept = self.close(keep=issubclass(exc_type, (KeyboardInterrupt, RehueError)))
        if not kept:
            return
        if self.joining and kept == sum(piece.frames for piece in self.pieces):
            room = ", which needs room for the film twice" if out_of_room(exc) else ""
            say_what_was_kept(exc, kept, self.staging, self.subject, "", self.log,
                              which=f"of the whole film (it stopped while they were joined into the file{room})",
                              going_on="joins them")
        else:  # joining, the pieces after a joint of recordings, where no time can be sought, are not kept
            in_shot = self.last_kept.state is not None
            say_what_was_kept(exc, kept, self.staging, self.subject, self.frame_label(kept), self.log,
                              which="of the pieces up to a joint of recordings" if self.joining
                              else f"coloured up to the {'piece' if in_shot else 'scene'} it stopped in")
