# The Fossa node image (CloudFormation parameter NodeImage). Build context: dist/images/fossa-node,
# written by `pnpm package` (bundled programs in lib/, launchers in bin/):
#   docker build --build-arg BASE_IMAGE=<registry>/node:24-slim -t fossa-node dist/images/fossa-node
# One image, two programs: the node (the default command) and the cluster view, which its ECS
# service runs with the command `spotjobs-fossa-gateway`. Hence a CMD and no ENTRYPOINT: ECS's
# `command` replaces the CMD, and an ENTRYPOINT would turn it into an argument of the node.
#
# BASE_IMAGE: any image with Node.js 24 as `node` on PATH and a POSIX sh (the launchers). The
# default is Docker Hub's official image through the ECR Public mirror (no Docker Hub pull limits);
# in AWS, point it at a copy in your own registry.
ARG BASE_IMAGE=public.ecr.aws/docker/library/node:24-slim
FROM ${BASE_IMAGE}

COPY lib/ /opt/spotjobs/lib/
COPY bin/ /opt/spotjobs/bin/
ENV PATH=/opt/spotjobs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Not root: the programs need no privilege. A number, so it works on any base image (no passwd
# entry needed); on the official node images it is the `node` user.
USER 1000:1000
WORKDIR /tmp
EXPOSE 2345
CMD ["spotjobs-fossa-node"]
